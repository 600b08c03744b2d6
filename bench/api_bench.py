"""The JSON API under load: `recall serve` on the largest corpus, 8 concurrent clients asking
500 questions each over keep-alive connections. Reports errors, answers that differ from
`recall search --batch --json` for the same question (took_ms aside), latency percentiles and
throughput; writes bench/out/api.md (a section for BENCHMARKS.md) and bench/out/api.json.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/api_bench.py [--clients 8] [--requests 500]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import common
from common import OUT, build_index, largest_corpus, machine_facts, md_table, percentiles

from indexer.cli import main as recall

sys.path.insert(0, str(common.ROOT / "tests"))
from apprun import serve_api  # a test helper (tests/ is not a package)

K = 10


def _without_timing(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "took_ms"}


def cli_answers(index: Path, queries: list[str], folder: Path) -> dict[str, dict]:
    """`recall search --batch FILE --json`'s answer to each question."""
    batch = folder / "queries.txt"
    batch.write_text("\n".join(queries) + "\n", encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = recall(["search", "--batch", str(batch), "--index", str(index), "-k", str(K)])
    if code != 0:
        raise RuntimeError(f"recall search --batch exited with {code}")
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    return dict(zip(queries, (_without_timing(a) for a in answers), strict=True))


def client(url: str, queries: list[str], start: int, count: int, expected: dict, out: dict) -> None:
    """`count` questions, from queries[start] on, over one keep-alive connection."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    latencies, errors, different = [], [], 0
    for i in range(count):
        query = queries[(start + i) % len(queries)]
        path = "/search?" + urllib.parse.urlencode({"q": query, "k": K})
        began = time.perf_counter()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            continue
        latencies.append((time.perf_counter() - began) * 1000)
        if response.status != 200:
            errors.append(f"{response.status}: {body[:200]!r}")
        elif _without_timing(json.loads(body)) != expected[query]:
            different += 1
    connection.close()
    out.update(latencies=latencies, errors=errors, different=different)


def run(clients: int, requests: int) -> dict:
    corpus = largest_corpus()
    folder = OUT / "api"
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / f"{corpus.name}-index"
    if not common.readable_index(index):
        print(f"building {corpus.name} into {index} …", flush=True)
        build_index(corpus, index, "use-multilingual")
    queries = list(dict.fromkeys(item["q"] for item in corpus.eval_set().queries))
    expected = cli_answers(index, queries, folder)
    with serve_api(index, folder / "serve.log") as url:
        results = [{} for _ in range(clients)]
        threads = [
            threading.Thread(
                target=client,
                args=(url, queries, n * requests // 7, requests, expected, results[n]),
            )
            for n in range(clients)
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        ready = next(
            line for line in (folder / "serve.log").read_text().splitlines() if "ready:" in line
        )
    latencies = [ms for r in results for ms in r["latencies"]]
    errors = [e for r in results for e in r["errors"]]
    return {
        "corpus": corpus.name,
        "passages": json.loads((index / "manifest.json").read_text())["counts"]["passages"],
        "questions": len(queries),
        "clients": clients,
        "requests": clients * requests,
        "errors": len(errors),
        "error_examples": errors[:5],
        "different_from_cli": sum(r["different"] for r in results),
        "wall_s": wall,
        "per_second": clients * requests / wall,
        "latency_ms": percentiles(latencies),
        "ready_line": ready,
        "machine": machine_facts(),
    }


def report(result: dict) -> str:
    lat = result["latency_ms"]
    rows = [
        ["requests (clients × questions each)", f"{result['requests']:,} ({result['clients']} × "
         f"{result['requests'] // result['clients']})"],
        ["errors", result["errors"]],
        ["answers different from `recall search --batch --json`", result["different_from_cli"]],
        ["latency p50 / p95 / p99", f"{lat['p50']:.1f} / {lat['p95']:.1f} / {lat['p99']:.1f} ms"],
        ["throughput", f"{result['per_second']:.0f} answers/s"],
    ]  # fmt: skip
    machine = result["machine"]
    return "\n".join(
        [
            "## JSON API under load (`recall serve`)",
            "",
            f"`bench/api_bench.py`: `recall serve` on the {result['corpus']} index "
            f"({result['passages']:,} passages), {result['clients']} concurrent clients over "
            f"keep-alive connections, each asking the {result['questions']} evaluation questions "
            f"in turn (k = {K}); every answer is compared with the CLI's for the same question. "
            f"{machine['usable_cores']} cores, {machine['cpu']}, {machine['date'][:10]}.",
            "",
            md_table(["", "measured"], rows),
            "",
            f"Server start: `{result['ready_line'].strip()}`",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=500, help="questions per client")
    args = parser.parse_args()
    result = run(args.clients, args.requests)
    (OUT / "api.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), "utf-8")
    text = report(result)
    (OUT / "api.md").write_text(text, encoding="utf-8")
    common.write_kept_block(common.ROOT / "BENCHMARKS.md", "api", text)
    print(text)


if __name__ == "__main__":
    main()
