"""A real HTTP server on 127.0.0.1 for tests: fixture pages plus programmable routes."""

from __future__ import annotations

import functools
import itertools
import threading
import time
import zlib
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


# ------------------------------------------------------------------ hostile kit
# Servers and bodies that misbehave on purpose (test_hostile_servers.py, bench/chaos.py).
# Large bodies are generated while they are sent, never held whole in memory.


def drip(interval: float = 1.0, count: int = 3600, content_type: str = "text/html") -> Route:
    """200, then one byte every `interval` seconds: no read ever times out."""

    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.end_headers()
        for _ in range(count):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(interval)

    return handle


def endless(content_type: str = "text/html", chunk: int = 16_384) -> Route:
    """A chunked stream that never ends."""

    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.protocol_version = "HTTP/1.1"
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        data = b"%x\r\n%s\r\n" % (chunk, b"<p>" + b"y" * (chunk - 3))
        while True:
            handler.wfile.write(data)

    return handle


def streamed(total: int, declare_length: bool, content_type: str = "text/html") -> Route:
    """`total` bytes of markup, with a Content-Length or delimited by closing the connection."""

    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        if declare_length:
            handler.send_header("Content-Length", str(total))
        handler.end_headers()
        block = b"<p>" + b"z" * 65_533
        for start in range(0, total, len(block)):
            handler.wfile.write(block[: total - start])

    return handle


def gzip_bomb(decoded_bytes: int) -> bytes:
    """A gzip body of `decoded_bytes` zeros: about a thousandth of that on the wire."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    parts = [
        compressor.compress(block[: min(len(block), decoded_bytes - start)])
        for start in range(0, decoded_bytes, len(block))
    ]
    return b"".join([*parts, compressor.flush()])


def deep_html(depth: int, tag: str = "div", closed: bool = True, marker: str = "deep") -> bytes:
    """`depth` nested elements around one line of text."""
    closing = f"</{tag}>" * depth if closed else ""
    return f"<html><body>{f'<{tag}>' * depth}<p>{marker}</p>{closing}</body></html>".encode()


def pdf_document(pages: list[bytes], *, compress: bool = False, forms: int = 0) -> bytes:
    """A minimal PDF whose pages draw the given content streams (Helvetica as F1).

    `forms` > 0 moves each page's content into a chain of that many form XObjects, each
    drawing the next: small page streams that make pypdf parse the big one anyway.
    """
    objects: list[bytes] = [b"", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]

    def add(obj: bytes) -> int:
        objects.append(obj)
        return len(objects)

    def stream(data: bytes, extra: bytes = b"") -> bytes:
        data = zlib.compress(data, 9) if compress else data
        flate = b" /Filter /FlateDecode" if compress else b""
        return b"<< /Length %d%s %s >>\nstream\n%s\nendstream" % (len(data), flate, extra, data)

    kids = []
    for content in pages:
        xobjects = b""
        for _ in range(forms):
            resources = b"/Resources << /Font << /F1 3 0 R >> %s >>" % xobjects
            form = add(
                stream(content, b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] " + resources)
            )
            xobjects, content = b"/XObject << /X %d 0 R >>" % form, b"/X Do"
        contents = add(stream(content))
        kids.append(
            add(
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                b"/Resources << /Font << /F1 3 0 R >> %s >> /Contents %d 0 R >>"
                % (xobjects, contents)
            )
        )
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % kid for kid in kids),
        len(kids),
    )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def text_page(text: str) -> bytes:
    """A PDF page content stream showing one line of (ASCII) text."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"BT /F1 12 Tf 72 712 Td ({escaped}) Tj ET".encode("latin-1")
