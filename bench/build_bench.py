"""Build throughput: a full offline build's passages per second against the raw encoder on
the same passages (the pipeline's overhead), and a rebuild with nothing changed as a
fraction of the full build.

    .venv/bin/python bench/build_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import time

import common

from indexer.config import DEFAULT_MODEL
from indexer.embed import load_embedder
from indexer.morphology import start_helper
from indexer.store import IndexReader

REPEATS = 3
STAGES = ("parse", "fetch", "chunk", "embed", "lexical", "words", "publish")


def run(quick: bool = False, log=print) -> dict:
    corpus = common.largest_corpus()
    start_helper()  # as `recall build` does: Kiwi loads beside the first build's other stages
    embedder = load_embedder(DEFAULT_MODEL)  # loaded once, outside every timing
    index_dir = common.OUT / "build" / "index"
    attempts = []

    def repetition() -> dict:
        shutil.rmtree(index_dir.parent, ignore_errors=True)
        full, full_s = common.build_index(corpus, index_dir, DEFAULT_MODEL, embedder, full=True)
        noop, noop_s = common.build_index(corpus, index_dir, DEFAULT_MODEL, embedder, full=False)
        if not noop.unchanged:
            raise RuntimeError("a rebuild with nothing changed was not recognised as unchanged")
        reader = IndexReader(index_dir)
        texts = common.indexed_passages(reader).texts
        disk = reader.size_on_disk()
        reader.close()
        started = time.perf_counter()
        embedder.encode_passages(texts)
        raw_s = time.perf_counter() - started
        attempts.append(full_s)
        log(
            f"  build {len(attempts)}: {full.passages} passages, full {full_s:.1f} s, raw "
            f"encode {raw_s:.1f} s, no-change {noop_s:.2f} s"
        )
        return {
            "attempt": len(attempts),
            "resources": full.resources,
            "passages": full.passages,
            "full_s": full_s,
            "noop_s": noop_s,
            "raw_encode_s": raw_s,
            "build_pps": full.passages / full_s,
            "raw_pps": full.passages / raw_s,
            "build_vs_raw": raw_s / full_s,
            "noop_fraction": noop_s / full_s,
            "stages": full.seconds,
            "disk_bytes": disk,
        }

    reps = common.repeat_uncontended(repetition, 1 if quick else REPEATS)
    reps.sort(key=lambda r: r["attempt"])
    keys = ("full_s", "noop_s", "raw_encode_s", "build_pps", "raw_pps")
    keys += ("build_vs_raw", "noop_fraction")
    return {
        "corpus": corpus.name,
        "model": DEFAULT_MODEL,
        "repeats": len(reps),
        "attempts": len(attempts),
        "passages": reps[0]["passages"],
        "resources": reps[0]["resources"],
        "median": {key: common.median(r[key] for r in reps) for key in keys},
        "stages_median": {
            stage: common.median(r["stages"].get(stage, 0.0) for r in reps) for stage in STAGES
        },
        "first": reps[0],
        "bytes_per_passage": reps[-1]["disk_bytes"] / reps[-1]["passages"],
        "others": max(r["others"] for r in reps),
        "reps": reps,
    }


def targets(result: dict) -> list[dict]:
    m = result["median"]
    return [
        {
            "target": "Full build ≥ 0.8× raw encoder throughput",
            "measured": f"{m['build_pps']:.0f} vs {m['raw_pps']:.0f} passages/s: "
            f"{m['build_vs_raw']:.2f}x",
            "met": m["build_vs_raw"] >= 0.8,
        },
        {
            "target": "No-change rebuild ≤ 5% of a full build",
            "measured": f"{m['noop_s']:.2f} s of {m['full_s']:.1f} s: {m['noop_fraction']:.1%}",
            "met": m["noop_fraction"] <= 0.05,
        },
    ]


def render(result: dict) -> str:
    m, first = result["median"], result["first"]
    first_label = "first repetition" + (" (cold)" if first["attempt"] == 1 else "")
    stages = result["stages_median"]
    total = sum(stages.values()) or 1.0
    return "\n".join(
        [
            "## 3. Build throughput",
            "",
            f"Corpus {result['corpus']} ({result['resources']} resources, {result['passages']} "
            f"passages, offline: list notes and titles, no page text), model {result['model']} "
            "loaded once beforehand (not timed). Each repetition: a full build (`Builder.build"
            "(full=True)`), a rebuild with nothing changed, and the raw encoder "
            "(`encode_passages`) on the same passage texts; medians over "
            f"{result['repeats']} repetitions, ratios taken within each repetition. A "
            "repetition during which other processes used over "
            f"{common.CONTENDED:.0%} of the CPU is redone ({result['attempts']} attempts; "
            f"other processes' share in the kept ones: up to {result['others']:.0%}).",
            "",
            common.md_table(
                ["measure", "median", first_label],
                [
                    ["full build, s", f"{m['full_s']:.2f}", f"{first['full_s']:.2f}"],
                    [
                        "full build, passages/s",
                        f"{m['build_pps']:.0f}",
                        f"{first['build_pps']:.0f}",
                    ],
                    ["raw encoder, passages/s", f"{m['raw_pps']:.0f}", f"{first['raw_pps']:.0f}"],
                    [
                        "build / raw encoder throughput",
                        f"{m['build_vs_raw']:.2f}x",
                        f"{first['build_vs_raw']:.2f}x",
                    ],
                    ["no-change rebuild, s", f"{m['noop_s']:.2f}", f"{first['noop_s']:.2f}"],
                    [
                        "no-change rebuild / full build",
                        f"{m['noop_fraction']:.1%}",
                        f"{first['noop_fraction']:.1%}",
                    ],
                    [
                        "index on disk, bytes per passage",
                        f"{result['bytes_per_passage']:,.0f}",
                        "",
                    ],
                ],
            ),
            "",
            "The first attempt (cold) also loads Kiwi's morphological model, in the helper "
            "process that `recall build` starts (`morphology.start_helper`), while the lists "
            "are parsed and the passages embedded.",
            "",
            "Median seconds per stage of a full build: "
            + ", ".join(f"{s} {v:.2f} ({v / total:.0%})" for s, v in stages.items()),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition")
    args = parser.parse_args()
    common.quiet()
    result = run(quick=args.quick)
    common.write_json(common.OUT / "build.json", result)
    print(render(result))


if __name__ == "__main__":
    main()
