"""The hostile part of bench/chaos.py: hostile pages fetched one by one in a child process
that reports each one's time and peak RSS growth, and hostile list lines timed at two sizes.

    .venv/bin/python bench/chaos_hostile.py SPEC.json   # the child; bench/chaos.py runs it
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]
MB = 1_000_000


# ------------------------------------------------------------------ hostile servers


def hostile_catalogue(server, internal) -> dict[str, str]:
    """name -> URL of each hostile page, routed on `server` at full size."""
    from httpserver import (
        deep_html,
        drip,
        endless,
        gzip_bomb,
        page,
        pdf_document,
        redirect,
        streamed,
        text_page,
    )

    words = b"<p>retrieval augmented generation with a lexical index</p>\n"
    routes = {
        "a well-behaved page": page(b"<html><body>" + words * 200 + b"</body></html>"),
        "50 MB page (Content-Length)": streamed(50 * MB, declare_length=True),
        "50 MB page (no length)": streamed(50 * MB, declare_length=False),
        "gzip bomb (200 MB decoded)": page(gzip_bomb(200 * MB), Content_Encoding="gzip"),
        "endless chunked stream": endless(),
        "one byte per second": drip(interval=1.0),
        "invalid UTF-8 (1 MB)": page(bytes(range(128, 256)) * 8000, "text/html; charset=utf-8"),
        "HTML nested 100,000 deep": page(deep_html(100_000)),
        "HTML 19 MB (under the size limit)": page(words * (19 * MB // len(words))),
        "HTML 1.9 MB of tiny paragraphs": page(b"<p>word word</p>\n" * 110_000),
        "30,000 unclosed <script> tags": page(b"<html><body>" + b"<script>a" * 30_000),
        "malformed PDF": page(b"%PDF-1.7\n" + os.urandom(100_000), "application/pdf"),
        "PDF of 5,000 pages": page(
            pdf_document([text_page(f"Page {n} of a long book") for n in range(5000)]),
            "application/pdf",
        ),
        "PDF inflating to 70 MB of operators": page(
            pdf_document([text_page("spam " * 40) * 300_000], compress=True, forms=2),
            "application/pdf",
        ),
        "redirect to 127.0.0.1": redirect(internal.url("/article.html")),
        "redirect to 169.254.169.254": redirect("http://169.254.169.254/latest/meta-data/"),
        "redirect loop": redirect("/chaos/loop"),
    }
    urls = {}
    for number, (name, route) in enumerate(routes.items()):
        path = "/chaos/loop" if name == "redirect loop" else f"/chaos/{number}"
        server.route(path, route)
        urls[name] = server.url(path)
    return urls


def hostile_child(spec_path: str) -> None:
    """Fetch each page alone in this process; print its status, time and peak RSS growth."""
    import psutil
    from common import peak_rss_bytes

    from indexer.config import FetchLimits
    from indexer.fetch import Fetcher
    from indexer.pagecache import PageCache

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    limits = FetchLimits(per_host_delay=0.0)
    process = psutil.Process()
    for number, (name, url) in enumerate(spec["urls"].items()):
        with tempfile.TemporaryDirectory() as cache_dir, PageCache(cache_dir) as cache:
            fetcher = Fetcher(cache, limits, allow_hosts=spec["allow"])
            if number == 0:  # warm up: imports, trafilatura's first run
                fetcher.fetch_all([url])
            gc.collect()
            Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS (VmHWM)
            rss = process.memory_info().rss
            clock = time.perf_counter()
            record = fetcher.fetch_all([url])
            seconds = time.perf_counter() - clock
            peak = peak_rss_bytes() - rss
            (only,) = record.values()
        line = {"page": name, "status": only.status, "seconds": round(seconds, 2)}
        line |= {"peak_rss_mb": round(peak / MB, 1), "text_chars": len(only.text or "")}
        line["error"] = (only.error or "")[:120]
        print(json.dumps(line), flush=True)


def run_hostile_pages(quick: bool, work: Path, log) -> dict:
    from httpserver import LocalServer

    with LocalServer() as server, LocalServer() as internal:
        urls = hostile_catalogue(server, internal)
        if quick:
            urls = {k: v for k, v in urls.items() if "second" not in k and "19 MB" not in k}
        spec = work / "hostile.json"
        spec.write_text(json.dumps({"urls": urls, "allow": [server.allow]}), encoding="utf-8")
        command = [sys.executable, str(Path(__file__)), str(spec)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
        internal_requests = len(internal.requests)
    pages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    for line in pages:
        log(
            f"  {line['page']:<36} {line['status']:<16} {line['seconds']:>6} s "
            f"{line['peak_rss_mb']:>7} MB"
        )
    if done.returncode or len(pages) != len(urls):
        raise RuntimeError(f"the hostile-page child failed:\n{done.stderr[-3000:]}")
    return {"pages": pages, "internal_requests": internal_requests}


# ------------------------------------------------------------------ hostile lists

LIST_UNITS = {
    "unclosed <a href> anchors": '<a href="x">',
    "nested [ brackets": "[",
    "](": "](",
    "bare URLs with (": "http://a.b/(",
    "link targets with spaces and a quote": '[a](http://a.b/          "x',
    "autolinks": "<http://a.b/",
    "HTML comments": "<!--",
    "table pipes": "|-",
    "emphasis and code": "**`",
    "zero-width and RTL": "\u200b\u202e",
    "dates": "(2019.01.01 ",
    "honorifics": "이름님: ",
    "backticks": "`",
    "unclosed <img> attributes": '<img src="x" ',
    "closing brackets": ")]",
    "emoji shortcodes": ":x:",
    "collapsible blocks": "<details><summary>s</summary>\n\n</details>\n",
}
LIST_PREFIXES = {
    "bullet": "* ",
    "heading": "## ",
    "table cell": "| a | b |\n|---|---|\n| ",
    "after a link definition": "[d]: http://e.com/d\n\n[d] ",
    "after a link": "* [t](http://e.com/t) ",
}
# Files of many short lines, each shape one block the parser builds up line by line.
LIST_FILES = {
    "one paragraph": lambda n: "word\n" * n,
    "one list item continued": lambda n: "* [t](http://e.com/x)\n" + "more\n" * n,
    "setext headings": lambda n: "Title\n---\n* [t](http://e.com/x)\n" * (n // 3),
    "reference links": lambda n: "".join(
        f"[l{i}]: http://e.com/{i}\n[t][l{i}]\n" for i in range(n // 2)
    ),
}


def run_hostile_lists(quick: bool, log) -> dict:
    from indexer.sources.markdown import parse_text

    sizes = (4_000, 16_000) if quick else (10_000, 40_000)
    rows = []
    for prefix_name, prefix in LIST_PREFIXES.items():
        for unit_name, unit in LIST_UNITS.items():
            seconds = []
            for size in sizes:
                text = prefix + unit * (size // len(unit)) + " [t](http://e.com/x)"
                clock = time.perf_counter()
                parse_text(text, "hostile.md")
                seconds.append(time.perf_counter() - clock)
            ratio = seconds[1] / max(seconds[0], 1e-4)
            rows.append({"line": f"{prefix_name}: {unit_name}", "chars": sizes[1]})
            rows[-1] |= {"seconds": round(seconds[1], 3), "growth": round(ratio, 1)}
    lines = (5_000, 20_000) if quick else (25_000, 100_000)
    for name, make in LIST_FILES.items():
        seconds = []
        for count in lines:
            text = make(count)
            clock = time.perf_counter()
            parse_text(text, "hostile.md")
            seconds.append(time.perf_counter() - clock)
        ratio = seconds[1] / max(seconds[0], 1e-4)
        rows.append({"line": f"{lines[1]:,} lines: {name}", "chars": len(text)})
        rows[-1] |= {"seconds": round(seconds[1], 3), "growth": round(ratio, 1)}
    depth = 5000
    deep = "\n".join(f"{' ' * level}* [l{level}](http://e.com/{level})" for level in range(depth))
    clock = time.perf_counter()
    links = len(parse_text(deep, "deep.md").resources)
    rows.append({"line": f"bullets nested {depth} deep", "chars": len(deep), "links": links})
    rows[-1] |= {"seconds": round(time.perf_counter() - clock, 3), "growth": None}
    worst = max(rows, key=lambda row: row["seconds"])
    log(f"  worst list line: {worst['line']} {worst['seconds']} s")
    return {"sizes": sizes, "rows": rows, "deep_links": links, "deep_expected": depth}


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    hostile_child(sys.argv[1])
