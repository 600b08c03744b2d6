"""`recall add` to searchable, on the dev-corpus index, for a page served from loopback.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/add_bench.py [--runs 5]

Copies the dev corpus lists to bench/out/add/, builds their index offline with the default
model once (not timed), then times add_resource (append, fetch, publish) for each run and
checks that a search finds the new resource. Target: at most 3 s.
"""

from __future__ import annotations

import argparse
import http.server
import shutil
import statistics
import threading
import time
from functools import partial

from common import OUT, SHARED

from indexer.add import AddRequest, add_resource
from indexer.build import Builder
from indexer.config import load_settings
from indexer.embed import load_embedder
from indexer.search import Searcher
from indexer.store import IndexReader

CORPUS = SHARED / "dev-corpus" / "adioshun-links"
PAGE = (
    "<html><head><title>Benchmark page {n}: flash attention kernels</title></head><body>"
    "<article><p>Flash attention {n} computes exact attention with tiling so that the "
    "softmax never leaves fast on-chip memory.</p></article></body></html>"
)


class _Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            self.send_error(404)
            return
        body = PAGE.format(n=self.path.strip("/")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = OUT / "add"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(CORPUS, root / "data")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Pages))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    settings = load_settings(
        data_dir=root / "data",
        index_dir=root / "index",
        cache_dir=root / "cache",
        allow_hosts=(host,),
    )
    embedder = load_embedder(settings.model)
    clock = time.perf_counter()
    Builder(settings, embedder).build([settings.data_dir], offline=True)
    print(f"dev-corpus index built offline in {time.perf_counter() - clock:.1f} s (not timed)")
    seconds = []
    for n in range(args.runs):
        url = f"http://{host}/{n}"
        clock = time.perf_counter()
        result = add_resource(
            settings, AddRequest(url, f"플래시 어텐션 {n}", "bench"), embedder=embedder
        )
        seconds.append(time.perf_counter() - clock)
        searcher = Searcher(IndexReader(settings.index_dir), embedder)
        found = [h.url for h in searcher.search(f"Benchmark page {n} flash attention").results]
        searcher.reader.close()
        print(
            f"run {n}: {seconds[-1]:.2f} s  {result.seconds}  searchable={result.searchable} "
            f"top3={url in found[:3]}"
        )
    server.shutdown()
    print(
        f"add to searchable: median {statistics.median(seconds):.2f} s, "
        f"max {max(seconds):.2f} s over {len(seconds)} runs (target <= 3 s)"
    )


if __name__ == "__main__":
    main()
