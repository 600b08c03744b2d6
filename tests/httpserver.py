"""A real HTTP server on 127.0.0.1 for tests: fixture pages plus programmable routes."""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURE_PAGES = Path(__file__).parent / "fixtures" / "pages"

Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]  # lower-cased names
    at: float  # time.monotonic() when the request arrived


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a route may still be dripping bytes at shutdown
    owner: LocalServer

    def handle_error(self, request, client_address) -> None:
        pass  # clients that give up mid-response (timeouts, size limits) are expected


class _Handler(SimpleHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        owner.seen(path, self.headers)
        route = owner.routes.get(path)
        if route is None:
            super().do_GET()
        else:
            route(self)

    def log_message(self, format, *args) -> None:
        pass


class LocalServer:
    """Serves tests/fixtures/pages/ and any route added with `route(path, handler)`;
    records every request it receives."""

    def __init__(self, root: Path = FIXTURE_PAGES, host: str = "127.0.0.1"):
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._httpd = _Server((host, 0), functools.partial(_Handler, directory=str(root)))
        self._httpd.owner = self
        self.host, self.port = self._httpd.server_address[:2]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def allow(self) -> str:
        """The --allow-host entry for this server."""
        return f"{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def route(self, path: str, handler: Route) -> None:
        self.routes[path] = handler

    def seen(self, path: str, headers) -> None:
        with self._lock:
            self.requests.append(
                SeenRequest(path, {k.lower(): v for k, v in headers.items()}, time.monotonic())
            )

    def hits(self, path: str) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


# ------------------------------------------------------------------ route kit


def send(
    handler: BaseHTTPRequestHandler,
    status: int = 200,
    body: bytes = b"",
    content_type: str | None = "text/html; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    if content_type:
        handler.send_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def page(body: bytes, content_type: str = "text/html; charset=utf-8", **headers: str) -> Route:
    """A route answering 200 with `body`; keyword headers use _ for - (Last_Modified)."""
    extra = {name.replace("_", "-"): value for name, value in headers.items()}
    return lambda h: send(h, 200, body, content_type, extra)


def status(code: int, **headers: str) -> Route:
    extra = {name.replace("_", "-"): value for name, value in headers.items()}
    return lambda h: send(h, code, f"status {code}".encode(), "text/plain", extra)


def redirect(location: str, code: int = 302) -> Route:
    return lambda h: send(h, code, b"", None, {"Location": location})


def sequence(*routes: Route) -> Route:
    """The n-th request gets the n-th route; the last one answers every request after."""
    calls = itertools.count()

    def handle(handler: BaseHTTPRequestHandler) -> None:
        routes[min(next(calls), len(routes) - 1)](handler)

    return handle


def fixture_bytes(name: str) -> bytes:
    return (FIXTURE_PAGES / name).read_bytes()
