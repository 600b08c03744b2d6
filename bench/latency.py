"""Query latency, memory and disk from 1k to 1M passages: Recall's search API end to end
against the floor (one query encode + one FAISS search on the same index) and txtai's search
on the same data, and recall@10 of the approximate dense index against exact search.

Each size is an index written with Recall's own store; `bench/synthetic.py` tells how its
real and synthetic passages are made. Queries are the evaluation sets' real queries. Every
measurement runs in a fresh child process per (size, system), so peak RSS is that of loading
the index and searching it.

    .venv/bin/python bench/latency.py [--quick] [--sizes 1000,10000]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import common
import faiss
import numpy as np
import synthetic
from latency_report import mib_cell, ms_cell, render

from indexer.config import DEFAULT_MODEL, load_settings
from indexer.embed import load_embedder
from indexer.search import Searcher, search_one
from indexer.store import (
    IVF_MIN_PROBES,
    IVF_PROBE_SHARE,
    IVF_TRAIN_POINTS_PER_LIST,
    ivf_lists,
    ivf_probes,
    write_index,
)

SIZES = (1_000, 10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
TXTAI_HYBRID_MAX = 100_000  # txtai's BM25 terms index of 1M passages is too slow for the run
TXTAI_SAMPLED_ABOVE = 100_000  # larger txtai IVF indexes train on a sample (its `sample`)
TXTAI_TRAIN_SAMPLE = 0.1
QUERIES, QUICK_QUERIES = 100, 20
ROUNDS, QUICK_ROUNDS = 2, 1  # rounds over all queries within one child process
CHILD_RUNS, QUICK_CHILD_RUNS = 2, 1  # fresh processes per (size, system)
WARMUP = 10  # queries run and discarded before timing
PROBE_SWEEP = (8, 16, 32, 64, 128, 256)  # lists a search probes (capped at all of them)
CHILD_WAIT = 30  # seconds a child may wait for a quiet machine (from the run's budget)
SYSTEMS = ("recall", "txtai-dense", "txtai-hybrid")


def prepare(base: synthetic.Base, size: int, folder: Path, queries: list[str], log=print) -> dict:
    """Write the Recall index, the txtai indexes and the exact top-10 of every query."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    data, texts = synthetic.make_index_data(base, size)
    facts = {"size": size, "real_passages": data.manifest["counts"]["real_passages"]}
    facts["resources"] = len(data.docs)
    facts["generate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    final = write_index(folder / "index", data)
    facts["write_s"] = time.perf_counter() - started
    facts["dense_index"] = common.read_json(final / "manifest.json")["dense_index"]
    if facts["dense_index"] == "ivf":
        facts["lists"] = ivf_lists(size)
        facts["probes"] = ivf_probes(facts["lists"])
    facts["disk_bytes"] = common.dir_bytes(final)
    embedder = load_embedder(DEFAULT_MODEL)
    vectors = data.vectors
    del data
    gc.collect()
    query_vectors = embedder.encode_queries(queries)
    _, exact = faiss.knn(query_vectors, vectors, common.K, metric=faiss.METRIC_INNER_PRODUCT)
    common.write_json(folder / "exact.json", exact.tolist())
    common.write_json(folder / "queries.json", queries)
    sample = TXTAI_TRAIN_SAMPLE if size > TXTAI_SAMPLED_ABOVE else None
    for kind in txtai_kinds(size):
        transform = common.lookup_transform(texts, vectors, embedder.encode_queries)
        started = time.perf_counter()
        embeddings = common.txtai_index(texts, transform, kind == "hybrid", sample)
        facts[f"txtai_{kind}_build_s"] = time.perf_counter() - started
        facts[f"txtai_{kind}_index"] = embeddings.config["build"]["settings"]["components"]
        embeddings.save(str(folder / f"txtai-{kind}"))
        embeddings.close()
        facts[f"txtai_{kind}_disk_bytes"] = common.dir_bytes(folder / f"txtai-{kind}")
    txtai_built = ", ".join(
        f"txtai {kind} {facts[f'txtai_{kind}_build_s']:.0f} s" for kind in txtai_kinds(size)
    )
    log(
        f"  {size:,} passages: generated {facts['generate_s']:.0f} s, Recall index "
        f"({facts['dense_index']}) written {facts['write_s']:.0f} s, {txtai_built}"
    )
    return facts


def txtai_kinds(size: int) -> tuple[str, ...]:
    return ("dense", "hybrid") if size <= TXTAI_HYBRID_MAX else ("dense",)


# ------------------------------------------------------------------ child processes


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _overlap(found: list[list[int]], exact: list[list[int]]) -> float:
    return float(
        np.mean(
            [len(set(f[: common.K]) & set(e)) / common.K for f, e in zip(found, exact, strict=True)]
        )
    )


def child_recall(folder: Path, rounds: int) -> dict:
    embedder = load_embedder(DEFAULT_MODEL)
    started = time.perf_counter()
    searcher = Searcher.open(folder / "index", embedder)
    open_s = time.perf_counter() - started
    dense = searcher.reader.dense
    queries = common.read_json(folder / "queries.json")

    def floor(query: str) -> None:
        search_one(dense, embedder.encode_queries([query])[0], common.K)

    # The default without its word bridges: what embedding and translating the query words
    # the index lacks costs (indexer/wordbridge.py).
    unbridged = Searcher(
        searcher.reader, embedder, ranking=searcher.ranking.with_options(word_bridges=False)
    )
    paths = {
        "recall": lambda q: searcher.search(q, k=common.K),
        "floor": floor,
        "dense_mode": lambda q: searcher.search(q, k=common.K, mode="dense"),
        "lexical_mode": lambda q: searcher.search(q, k=common.K, mode="lexical"),
        "no_word_bridges": lambda q: unbridged.search(q, k=common.K),
    }
    for query in queries[:WARMUP]:
        for path in paths.values():
            path(query)

    def one_round() -> dict:
        samples = {name: [] for name in paths}
        for query in queries:
            for name, path in paths.items():
                samples[name].append(_timed(lambda path=path, query=query: path(query)))
        return {name: common.percentiles(values) for name, values in samples.items()}

    measured = common.repeat_uncontended(one_round, rounds)
    peak = common.peak_rss_bytes()
    query_vectors = embedder.encode_queries(queries)
    exact = common.read_json(folder / "exact.json")
    _, found = dense.search(query_vectors, common.K)
    return {
        "open_s": open_s,
        "rounds": measured,
        "peak_rss": peak,
        "ann_recall": _overlap(found.tolist(), exact),
        "dense_index": type(dense).__name__,
        "probe_sweep": _probe_sweep(dense, query_vectors, exact),
    }


def _probe_sweep(dense, query_vectors: np.ndarray, exact: list[list[int]]) -> list[dict]:
    """Recall@10 and search time of the IVF index probing other numbers of its lists
    (information for whoever tunes it; the figures above use the shipped number)."""
    if not isinstance(dense, faiss.IndexIVF):
        return []
    shipped, sweep = dense.nprobe, []
    for probes in sorted({min(p, dense.nlist) for p in PROBE_SWEEP} | {shipped}):
        dense.nprobe = probes
        _, found = dense.search(query_vectors, common.K)
        times = [_timed(lambda v=v: search_one(dense, v, common.K)) for v in query_vectors]
        sweep.append(
            {
                "probes": probes,
                "lists": dense.nlist,
                "shipped": probes == shipped,
                "recall": _overlap(found.tolist(), exact),
                **common.percentiles(times),
            }
        )
    dense.nprobe = shipped
    return sweep


def child_txtai(folder: Path, kind: str, rounds: int) -> dict:
    embedder = load_embedder(DEFAULT_MODEL)
    started = time.perf_counter()
    embeddings = common.txtai_load(
        folder / f"txtai-{kind}", common.query_transform(embedder.encode_queries)
    )
    open_s = time.perf_counter() - started
    queries = common.read_json(folder / "queries.json")
    for query in queries[:WARMUP]:
        embeddings.search(query, common.K)

    def one_round() -> dict:
        samples = [
            _timed(lambda query=query: embeddings.search(query, common.K)) for query in queries
        ]
        return {f"txtai_{kind}": common.percentiles(samples)}

    measured = common.repeat_uncontended(one_round, rounds)
    result = {"open_s": open_s, "rounds": measured, "peak_rss": common.peak_rss_bytes()}
    if kind == "dense":
        found = [[row for row, _ in embeddings.search(q, common.K)] for q in queries]
        result["ann_recall"] = _overlap(found, common.read_json(folder / "exact.json"))
    return result


def _spawn(system: str, folder: Path, rounds: int) -> dict:
    common.wait_for_quiet()
    out = folder / f"child-{system}.json"
    command = [sys.executable, __file__, "--child", system, "--dir", str(folder)]
    command += ["--rounds", str(rounds), "--out", str(out)]
    budget = min(CHILD_WAIT, common.wait_budget())
    env = {**os.environ, "RECALL_BENCH_MAX_WAIT": f"{budget:.0f}"}
    finished = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if finished.returncode != 0:
        return {"error": finished.stderr.strip().splitlines()[-1:] or ["exit code"]}
    result = common.read_json(out)
    common.charge_wait(result["waited_s"])
    return result


# ------------------------------------------------------------------ orchestration


def _summarise(facts: dict, runs: dict[str, list[dict]]) -> dict:
    """Median over every round of every child run; ratios within each round of a run."""
    entry = dict(facts)
    for system, results in runs.items():
        ok = [r for r in results if "error" not in r]
        if not ok:
            if results:
                entry[f"{system}_error"] = results[0]["error"]
            continue
        rounds = [rnd for r in ok for rnd in r["rounds"]]
        for name in rounds[0]:
            if name != "others":
                entry[name] = common.median_of_rounds([rnd[name] for rnd in rounds])
        entry[f"{system}_others"] = max(rnd["others"] for rnd in rounds)
        if ok[0].get("probe_sweep"):
            entry["probe_sweep"] = ok[0]["probe_sweep"]
        entry[f"{system}_peak_rss"] = common.median(r["peak_rss"] for r in ok)
        entry[f"{system}_open_s"] = common.median(r["open_s"] for r in ok)
        if "ann_recall" in ok[0]:
            entry[f"{system}_ann_recall"] = common.median(r["ann_recall"] for r in ok)
        if system == "recall":
            for path in ("recall", "no_word_bridges"):
                entry[f"{path}_vs_floor_p95"] = common.median(
                    rnd[path]["p95"] / rnd["floor"]["p95"] for rnd in rounds
                )
    for kind in ("dense", "hybrid"):
        if f"txtai_{kind}" in entry and "recall" in entry:
            entry[f"txtai_{kind}_vs_recall_p95"] = (
                entry[f"txtai_{kind}"]["p95"] / entry["recall"]["p95"]
            )
    return entry


def run(quick: bool = False, sizes: tuple[int, ...] | None = None, keep: bool = False, log=print):
    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    rounds = QUICK_ROUNDS if quick else ROUNDS
    child_runs = QUICK_CHILD_RUNS if quick else CHILD_RUNS
    base = synthetic.load_base(log)
    queries = base.queries[: QUICK_QUERIES if quick else QUERIES]
    result = {
        "sizes": [],
        "queries": len(queries),
        "warmup": WARMUP,
        "systems": list(SYSTEMS),
        "rounds": rounds * child_runs,
        "child_runs": child_runs,
        "real_passages": len(base.passages),
        "probe_share": IVF_PROBE_SHARE,
        "min_probes": IVF_MIN_PROBES,
        "train_points_per_list": IVF_TRAIN_POINTS_PER_LIST,
        "ann_threshold": load_settings().ann_threshold,
        "txtai_hybrid_max": TXTAI_HYBRID_MAX,
        "txtai_sampled_above": TXTAI_SAMPLED_ABOVE,
        "txtai_train_sample": TXTAI_TRAIN_SAMPLE,
    }
    for size in sizes:
        folder = common.OUT / "latency" / f"n{size}"
        facts = prepare(base, size, folder, queries, log)
        gc.collect()
        systems = ("recall", *(f"txtai-{kind}" for kind in txtai_kinds(size)))
        runs: dict[str, list[dict]] = {system: [] for system in systems}
        for _ in range(child_runs):
            for system in systems:
                runs[system].append(_spawn(system, folder, rounds))
        entry = _summarise(facts, runs)
        result["sizes"].append(entry)
        log(
            f"  {size:,} passages: Recall p95 {ms_cell(entry, 'recall')} ms, floor p95 "
            f"{ms_cell(entry, 'floor')} ms, peak RSS {mib_cell(entry.get('recall_peak_rss'))} MiB"
        )
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k passages, 20 queries")
    parser.add_argument("--sizes", help="comma-separated passage counts")
    parser.add_argument("--keep", action="store_true", help="keep the generated indexes")
    parser.add_argument("--child", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    common.quiet()
    if args.child:
        if args.child == "recall":
            result = child_recall(args.dir, args.rounds)
        else:
            result = child_txtai(args.dir, args.child.split("-")[1], args.rounds)
        common.write_json(args.out, {**result, "waited_s": common.waited()})
        return
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else None
    result = run(quick=args.quick, sizes=sizes, keep=args.keep)
    common.write_json(common.OUT / "latency.json", result)
    print(render(result))


if __name__ == "__main__":
    main()
