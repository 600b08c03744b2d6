"""The HTTP client Recall fetches through: every connection goes to an address checked
at connect time, and every body is read within a limit on decoded bytes."""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import socket
import ssl
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime

import httpcore
import httpx

from indexer.config import FetchLimits

# IPv6 prefix that NAT64 gateways map onto IPv4 (RFC 6052): judged by the IPv4 inside.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedAddress(Exception):
    """The host resolves only to addresses Recall refuses to connect to."""


class DNSFailure(Exception):
    """The host name does not resolve; `nxdomain` when the resolver said the name does
    not exist (rather than that it could not find out)."""

    def __init__(self, message: str, nxdomain: bool = False):
        super().__init__(message)
        self.nxdomain = nxdomain


class TooLarge(Exception):
    """The body is larger than allowed (counted in decoded bytes)."""


class UnsupportedEncoding(Exception):
    """A Content-Encoding Recall did not ask for and cannot decode."""


# ------------------------------------------------------------ address policy


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """False for loopback, private, link-local (cloud metadata), shared, reserved and
    multicast addresses, including IPv4 ones hidden inside IPv6 forms."""
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    return ip.is_global and not ip.is_multicast


def parse_allow_hosts(entries: Iterable[str]) -> frozenset[tuple[str, int | None]]:
    """`host`, `host:port`, `[v6]:port` -> (host, port or None for any port)."""
    allowed = set()
    for entry in entries:
        entry = entry.strip().lower()
        port: str | None = None
        if entry.startswith("["):
            host, _, rest = entry[1:].partition("]")
            port = rest.removeprefix(":") or None
        elif entry.count(":") == 1:
            host, port = entry.split(":")
        else:
            host = entry
        if host:
            allowed.add((host.rstrip("."), int(port) if port else None))
    return frozenset(allowed)


async def _resolve(host: str, port: int, timeout: float | None) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]  # a literal address needs no lookup
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DNSFailure(f"{host}: {exc.strerror}", exc.errno == socket.EAI_NONAME) from exc
    except TimeoutError as exc:
        raise DNSFailure(f"{host}: name resolution timed out") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _public(address: str) -> bool:
    try:
        return is_public_address(ipaddress.ip_address(address))
    except ValueError:
        return False


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves every host itself and connects only to an address it has checked, so
    neither a listed link nor a redirect nor DNS rebinding reaches an internal network."""

    def __init__(self, allowed: frozenset[tuple[str, int | None]]):
        self._inner = httpcore.AnyIOBackend()
        self._allowed = allowed

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = await _resolve(host, port, timeout)
        name = host.lower().rstrip(".")
        if (name, port) not in self._allowed and (name, None) not in self._allowed:
            addresses = [a for a in addresses if _public(a)]
            if not addresses:
                raise BlockedAddress(
                    f"{host} is a loopback, private, link-local or metadata address "
                    "(allow it with --allow-host)"
                )
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error  # type: ignore[misc]

    async def connect_unix_socket(self, *args, **kwargs):
        raise BlockedAddress("unix sockets are never used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def make_client(limits: FetchLimits, allow_hosts: Iterable[str]) -> httpx.AsyncClient:
    ssl_context = httpx.create_ssl_context(trust_env=False)  # loading CA roots costs 50 ms
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, trust_env=False)
    # httpx offers no public way to pass a network backend, so the pool it built is
    # replaced by one whose every connection goes through the address check.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=limits.concurrency * 2,
        max_keepalive_connections=limits.concurrency * 2,
        keepalive_expiry=5.0,
        network_backend=_GuardedBackend(parse_allow_hosts(allow_hosts)),
    )
    return httpx.AsyncClient(
        transport=transport,
        trust_env=False,  # a proxy would make the address check meaningless
        follow_redirects=False,  # followed by hand: each hop is checked and counted
        timeout=httpx.Timeout(limits.total_timeout, connect=limits.connect_timeout),
        headers={
            "User-Agent": limits.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/pdf,text/plain;q=0.9,*/*;q=0.5",
            "Accept-Encoding": "gzip, deflate",
        },
    )


# -------------------------------------------------------------- reading bodies


class _Decoder:
    """Content-Encoding decoding that never inflates more than it is asked for, so a
    gzip bomb is measured in decoded bytes without ever being held in memory."""

    def __init__(self, encoding: str | None):
        encoding = (encoding or "identity").strip().lower()
        self._wbits: int | None = None
        if encoding in ("gzip", "x-gzip"):
            self._wbits = 16 + zlib.MAX_WBITS
        elif encoding == "deflate":
            self._wbits = 0  # zlib-wrapped or raw: decided from the first bytes
        elif encoding not in ("identity", ""):
            raise UnsupportedEncoding(f"content encoding {encoding!r}")
        self._z = None

    def decode(self, data: bytes, limit: int) -> bytes:
        if self._wbits is None:
            return data
        if self._z is None:
            if self._wbits == 0:
                zlib_header = (
                    len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
                )
                self._wbits = zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS
            self._z = zlib.decompressobj(self._wbits)
        out = bytearray()
        while data and len(out) < limit:
            out += self._z.decompress(data, limit - len(out))
            if self._z.eof:  # concatenated gzip members
                data = self._z.unused_data
                self._z = zlib.decompressobj(self._wbits) if data else self._z
            else:
                data = self._z.unconsumed_tail
        return bytes(out)


async def read_body(response: httpx.Response, max_bytes: int) -> bytes:
    decoder = _Decoder(response.headers.get("content-encoding"))
    chunks: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw():
        piece = decoder.decode(raw, max_bytes - size + 1)
        size += len(piece)
        if size > max_bytes:
            raise TooLarge(f"more than {max_bytes} bytes")
        chunks.append(piece)
    return b"".join(chunks)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def connect_status(exc: BaseException) -> str:
    """tls when a connection failed in the TLS handshake, else refused."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return "tls"
        seen = seen.__cause__ or seen.__context__
    return "refused"
