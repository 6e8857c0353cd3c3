"""A token server on 127.0.0.1 that misbehaves on purpose (slow, huge, redirecting).

``GET /v2/...`` answers 401 with a Bearer challenge whose realm is ``/token`` on the same
server; ``/token`` then does what ``mode`` says:

* ``drip``: the whole response (status line and headers too), one byte per ``interval``;
* ``drip_body``: headers at once, then the body one byte per ``interval``;
* ``huge``: a 300 MB body sent as fast as the client takes it;
* ``redirect``: 307 to ``location`` (a POST body would follow it);
* ``ok``: a token.

``realm`` replaces the realm of the challenge (e.g. a closed port).

Every connection thread ends within ``max_seconds`` whatever the client does.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import List, Optional

TOKEN_BODY = b'{"token": "T0KEN"}'


class HostileServer:
    def __init__(
        self,
        mode: str,
        *,
        interval: float = 0.05,
        max_seconds: float = 10.0,
        location: str = "",
        realm: str = "",
    ) -> None:
        self.mode = mode
        self.realm = realm
        self.interval = interval
        self.max_seconds = max_seconds
        self.location = location
        self.paths: List[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: List[threading.Thread] = []
        self._conns: List[socket.socket] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._accept.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()
        for conn in self._conns:  # wake a thread waiting for a client's next request
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in [self._accept, *self._threads]:
            thread.join(timeout=self.max_seconds + 1)

    def _serve(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self._conns.append(conn)
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket) -> None:
        end = time.monotonic() + self.max_seconds
        conn.settimeout(self.max_seconds)
        try:
            with conn:
                while not self._stop.is_set() and time.monotonic() < end:
                    path = self._read_request(conn)
                    if path is None:
                        return
                    self.paths.append(path)
                    if path.startswith("/v2/"):
                        realm = self.realm or f"{self.url}/token"
                        challenge = f'Bearer realm="{realm}",service="hostile"'
                        conn.sendall(
                            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
                            b"WWW-Authenticate: " + challenge.encode() + b"\r\n\r\n"
                        )
                        continue
                    self._token(conn, end)
                    return
        except OSError:
            return

    def _read_request(self, conn: socket.socket) -> Optional[str]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head.split(b" ")[1].decode()

    def _token(self, conn: socket.socket, end: float) -> None:
        ok = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(TOKEN_BODY)
        ) + TOKEN_BODY
        if self.mode == "ok":
            conn.sendall(ok)
        elif self.mode == "redirect":
            conn.sendall(
                b"HTTP/1.1 307 Temporary Redirect\r\nContent-Length: 0\r\nLocation: "
                + self.location.encode()
                + b"\r\n\r\n"
            )
        elif self.mode in ("drip", "drip_body"):
            todo = ok
            if self.mode == "drip_body":
                todo = TOKEN_BODY + b" " * 10_000
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(todo))
            for i in range(len(todo)):
                if self._stop.is_set() or time.monotonic() > end:
                    return
                conn.sendall(todo[i : i + 1])
                time.sleep(self.interval)
        elif self.mode == "huge":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 300000000\r\n\r\n"
            )
            chunk = b" " * 65536
            sent = 0
            while sent < 300_000_000 and time.monotonic() < end and not self._stop.is_set():
                conn.sendall(chunk)
                sent += len(chunk)
