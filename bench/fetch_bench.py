"""Fetcher throughput: 200 pages from local servers that answer each request after 100 ms.

The ideal wall time is pages x latency / concurrency; the target is within 1.3x of it.
Pages are spread over distinct loopback addresses (127.0.0.1, 127.0.0.2, ...), each its
own host, so the per-host cap (2 in flight) does not bound the run. The servers run in
a child process, as a real server would, so they do not compete with the fetcher for
its interpreter lock. They are asyncio servers that keep connections alive (as nginx
and Apache do by default), so the fetcher's connection pool is exercised; robots.txt
also answers after 100 ms, and those 10 requests count against the run.

Two runs: the real fetcher (download, extract with trafilatura, store in SQLite), and
the same with extraction replaced by a stub, which isolates the network machinery
(concurrency, per-host limits, robots.txt, redirects) from the CPU cost of extraction.

    .venv/bin/python bench/fetch_bench.py
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace

import indexer.pagecache
from indexer.config import FetchLimits
from indexer.extract import Extracted
from indexer.fetch import Fetcher
from indexer.pagecache import PageCache

PAGES = 200
HOSTS = 10
LATENCY = 0.1  # seconds before every response, robots.txt included
LIMITS = replace(FetchLimits(), concurrency=8, per_host=2, per_host_delay=0.05)

# A page shaped like the articles lists link to: navigation, a body of several
# paragraphs, a footer. (A two-sentence page is not realistic: trafilatura finds too
# little text in it and runs its slower fallback extractors on every page.)
_PARAGRAPH = (
    "<p>Section {i} of benchmark page {n} explains how attention layers weigh the parts "
    "of a sequence, why convolutions share weights across positions, and how a time "
    "series model built with an LSTM can be trained, validated and deployed.</p>"
)
_BODY = (
    "<html><head><title>Page {n}</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/about'>About</a> <a href='/tags'>Tags</a></nav>"
    "<article><h1>Page {n}: notes on sequence models</h1>"
    + "".join(_PARAGRAPH.replace("{i}", str(i)) for i in range(1, 7))
    + "</article><footer>Copyright, contact and other boilerplate.</footer></body></html>"
)


def _response(path: str) -> bytes:
    if path == "/robots.txt":
        body, content_type = b"User-agent: *\nAllow: /\n", "text/plain"
    else:
        body, content_type = _BODY.format(n=path.strip("/")).encode(), "text/html"
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Requests on one kept-alive connection (as most web servers allow), each answered
    LATENCY seconds after it arrived."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            await asyncio.sleep(LATENCY)
            writer.write(_response(path))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


async def _serve_all(hosts: int) -> None:
    servers = [
        await asyncio.start_server(_answer, f"127.0.0.{k}", 0, backlog=256)
        for k in range(1, hosts + 1)
    ]
    addresses = (server.sockets[0].getsockname()[:2] for server in servers)
    print(" ".join(f"{host}:{port}" for host, port in addresses), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def _serve(hosts: int) -> None:
    """Child process: one server per loopback address; prints host:port list, then serves
    until the parent closes the pipe."""
    asyncio.run(_serve_all(hosts))


@contextmanager
def _servers(hosts: int):
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(hosts)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield child.stdout.readline().split()
    finally:
        child.stdin.close()
        child.wait(timeout=10)


@contextmanager
def _extraction_stubbed():
    real = indexer.pagecache.extract
    indexer.pagecache.extract = lambda body, *a, **k: Extracted(text="stub", kind="html")
    try:
        yield
    finally:
        indexer.pagecache.extract = real


def _measure(addresses: list[str], pages: int, limits: FetchLimits) -> dict:
    urls = [f"http://{addresses[n % len(addresses)]}/{n}" for n in range(pages)]
    with tempfile.TemporaryDirectory() as cache_dir, PageCache(cache_dir) as cache:
        fetcher = Fetcher(cache, limits, allow_hosts=addresses)
        wall, cpu = time.perf_counter(), time.process_time()
        records = fetcher.fetch_all(urls)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ideal = pages * LATENCY / limits.concurrency
    return {
        "ok": sum(r.status == "ok" for r in records.values()),
        "requests": fetcher.stats.requests + fetcher.stats.robots_requests,
        "wall_s": round(wall, 2),
        "ideal_s": round(ideal, 2),
        "ratio": round(wall / ideal, 2),
        "pages_per_s": round(pages / wall, 1),
        "fetcher_cpu_s": round(cpu, 2),
    }


def run(pages: int = PAGES, hosts: int = HOSTS, limits: FetchLimits = LIMITS) -> dict:
    with _servers(hosts) as addresses:
        full = _measure(addresses, pages, limits)
        with _extraction_stubbed():
            network = _measure(addresses, pages, limits)
    return {
        "pages": pages,
        "hosts": hosts,
        "latency_s": LATENCY,
        "concurrency": limits.concurrency,
        "per_host": limits.per_host,
        "per_host_delay_s": limits.per_host_delay,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "fetch_extract_store": full,
        "network_only": network,
    }


def main() -> None:
    result = run()
    print(
        f"{result['pages']} pages, {result['hosts']} hosts, {result['latency_s']} s latency, "
        f"concurrency {result['concurrency']} (per host {result['per_host']}, "
        f"{result['per_host_delay_s']} s apart); {result['cpus']} CPUs, "
        f"load average {result['load_average_1m']}\n"
    )
    rows = ("fetch_extract_store", "network_only")
    columns = list(result[rows[0]])
    print("| run | " + " | ".join(columns) + " | within 1.3x |")
    print("|---|" + "---|" * (len(columns) + 1))
    for row in rows:
        values = result[row]
        verdict = "yes" if values["ratio"] <= 1.3 else "no"
        print(f"| {row} | " + " | ".join(str(values[c]) for c in columns) + f" | {verdict} |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        _serve(int(sys.argv[2]))
    else:
        main()
