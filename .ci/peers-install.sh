#!/usr/bin/env bash
# Installs the peer programs the integration tests start (Debian/Ubuntu, as root
# or with sudo). Idempotent: does nothing when everything is present.
#
#   .ci/peers-install.sh
#
# Package services are not started: unless /usr/sbin/policy-rc.d exists, a
# temporary one denying starts is used during the install (docker-registry
# would otherwise listen on :5000 on all interfaces).
set -euo pipefail

pkgs=(
  curl ca-certificates
  docker-registry apache2-utils             # registry 2.8 + htpasswd (bcrypt)
  skopeo podman                             # containers/image clients
  golang-docker-credential-helpers          # docker-credential-pass, -secretservice
  pass gnupg                                # pass store
  gnome-keyring dbus-daemon dbus-bin        # Secret Service on a private bus
  libsecret-tools                           # secret-tool
)
if ! command -v kubectl >/dev/null 2>&1; then pkgs+=(kubernetes-client); fi

missing=()
for p in "${pkgs[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "peers-install: all packages present"
  exit 0
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "peers-install: need root for: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi

policy=/usr/sbin/policy-rc.d
if [ ! -e $policy ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee $policy >/dev/null
  "${sudo[@]}" chmod 755 $policy
  trap '"${sudo[@]}" rm -f $policy' EXIT
fi

log=${TMPDIR:-/tmp}/peers-install.log
echo "peers-install: installing ${missing[*]}"
apt_opts=(-y -qq -o Dpkg::Use-Pty=0 --no-install-recommends)
if ! timeout 600 "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1; then
  tail -20 "$log" >&2
  echo "peers-install: apt-get update failed (log: $log)" >&2
  exit 1
fi
if ! timeout 1200 "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install "${apt_opts[@]}" "${missing[@]}" >>"$log" 2>&1; then
  tail -20 "$log" >&2
  echo "peers-install: apt-get install failed (log: $log)" >&2
  exit 1
fi

# A registry started by the package despite the guard would squat :5000.
if command -v systemctl >/dev/null 2>&1; then
  "${sudo[@]}" systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
echo "peers-install: installed"
