"""Fetch an image's manifest with the credentials Docker would use.

    python examples/pull_manifest.py quay.io/org/app:1.0
    python examples/pull_manifest.py --insecure 127.0.0.1:5000/test/hello:v1

Prints the manifest's digest, media type and size; exits 1 with one line on error.
Plain http is used only for loopback registries or with --insecure.
"""

from __future__ import annotations

import argparse
import sys

import requests

import dockercreds
from dockercreds.errors import DockerCredsError
from dockercreds.reference import parse_docker_ref
from dockercreds.registry import api_host, is_loopback

ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def manifest_url(image: str, *, insecure: bool) -> str:
    ref = parse_docker_ref(image)
    host = api_host(ref.domain)
    scheme = "http" if insecure or is_loopback(host) else "https"
    return f"{scheme}://{host}/v2/{ref.path}/manifests/{ref.digest or ref.tag}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("--insecure", action="store_true", help="allow plain http")
    parser.add_argument("--config", help="read only this Docker config file")
    args = parser.parse_args(argv)
    try:
        url = manifest_url(args.image, insecure=args.insecure)
        session = requests.Session()
        session.auth = dockercreds.RegistryAuth(
            config=args.config, insecure=[url.split("/")[2]] if args.insecure else ()
        )
        response = session.get(url, headers={"Accept": ACCEPT}, timeout=30)
    except (DockerCredsError, requests.RequestException) as exc:
        print(f"pull_manifest: {exc}", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(f"pull_manifest: {url}: HTTP {response.status_code}", file=sys.stderr)
        return 1
    print(response.headers.get("Docker-Content-Digest", "?"))
    print(response.headers.get("Content-Type", "?"))
    print(f"{len(response.content)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
