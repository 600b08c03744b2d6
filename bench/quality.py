"""Retrieval quality: Recall's modes and built-in models against txtai (same bundled model,
dense and hybrid) and plain whitespace BM25, on each labelled evaluation set.

    .venv/bin/python bench/quality.py [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import common
import numpy as np

from indexer.config import DEFAULT_MODEL
from indexer.embed import BUILTIN_MODELS, load_embedder
from indexer.evaluate import RELATED_K, EvalSet, evaluate
from indexer.search import Searcher

REPEATS = 2  # the metrics are deterministic; a second pass checks that they are
DEPTH = 100  # passages a baseline retrieves before they are aggregated per resource
RECALL_CONFIGS = {  # name -> Searcher.search keyword arguments
    "default": {},  # what `recall search` and the UI do: hybrid, z-score fusion, no expansion
    "dense": {"mode": "dense"},
    "dense + expansion": {"mode": "dense", "expand": True},
    "lexical": {"mode": "lexical"},
    "hybrid + expansion": {"mode": "hybrid", "expand": True},
    "hybrid, RRF fusion": {"mode": "hybrid", "fusion": "rrf"},
}
TXTAI_DENSE, TXTAI_HYBRID = "txtai dense [USE-m]", "txtai hybrid [USE-m]"
BASELINES = (TXTAI_DENSE, TXTAI_HYBRID, "BM25 whitespace")
SPLITS = ("lang=ko", "lang=en", "kind=cross", "kind=same", "kind=paraphrase")
MODEL_LABEL = {"use-multilingual": "USE-m", "minilm-en": "MiniLM-en"}


def system_name(config: str, model: str) -> str:
    return f"Recall {config} [{MODEL_LABEL.get(model, model)}]"


DEFAULT_SYSTEM = system_name("default", DEFAULT_MODEL)


def _score(eval_set: EvalSet, rank: Callable, related: Callable | None) -> dict:
    runs = [evaluate(eval_set, rank, related, k=common.K) for _ in range(REPEATS)]
    per_query = runs[0].pop("per_query")
    for other in runs[1:]:
        other.pop("per_query")
    runs[0]["identical_across_repeats"] = all(other == runs[0] for other in runs[1:])
    runs[0]["per_query"] = [
        {key: q[key] for key in ("q", "lang", "kind", "mrr", "top")} for q in per_query
    ]
    return runs[0]


def _recall_systems(searcher: Searcher, eval_set: EvalSet, model: str) -> dict:
    def related(url: str, k: int) -> list[str]:
        try:
            return [hit.url for hit in searcher.related(url, k)]
        except KeyError:  # a labelled resource the parser did not find
            return []

    systems = {}
    for config, kwargs in RECALL_CONFIGS.items():

        def rank(query: str, k: int, kwargs=kwargs) -> list[str]:
            return [hit.url for hit in searcher.search(query, k=k, **kwargs).results]

        # Related resources do not depend on the search mode: score them once per model.
        systems[system_name(config, model)] = _score(
            eval_set, rank, related if config == "default" else None
        )
    return systems


def _baseline_systems(searcher: Searcher, eval_set: EvalSet, embedder) -> dict:
    """txtai and BM25 over the same passages Recall indexed, best passage per resource."""
    indexed = common.indexed_passages(searcher.reader)
    first_row: dict[int, int] = {}
    for row, pos in enumerate(indexed.passage_docs.tolist()):
        first_row.setdefault(pos, row)
    transform = common.memo_transform(embedder.encode_passages)
    started = time.perf_counter()
    searchers = {
        TXTAI_DENSE: common.txtai_index(indexed.texts, transform, hybrid=False),
        TXTAI_HYBRID: common.txtai_index(indexed.texts, transform, hybrid=True),
    }
    txtai_seconds = time.perf_counter() - started
    bm25 = common.PlainBM25(indexed.texts)
    systems = {}
    for name in BASELINES:
        if name == "BM25 whitespace":
            hits = bm25.search
        else:

            def hits(query: str, depth: int, embeddings=searchers[name]):
                return common.txtai_search(embeddings, query, depth)

        def rank(query: str, k: int, hits=hits) -> list[str]:
            return common.resource_urls(hits(query, DEPTH), indexed.passage_docs, indexed.docs, k)

        def related(url: str, k: int, hits=hits) -> list[str]:
            # "More like this": the resource's own list entry (its profile) as the query.
            pos = searcher.resolve(url)
            if pos is None:
                return []
            found = hits(indexed.texts[first_row[pos]], DEPTH)
            return common.resource_urls(found, indexed.passage_docs, indexed.docs, k, pos)

        systems[name] = _score(eval_set, rank, related)
    systems[TXTAI_DENSE]["build_seconds_both_txtai"] = round(txtai_seconds, 2)
    return systems


def run(quick: bool = False, log=print) -> dict:
    result = {"corpora": [], "skipped": [], "quick": quick}
    models = (DEFAULT_MODEL,) if quick else BUILTIN_MODELS
    for corpus in common.corpora():
        reason = corpus.missing()
        if reason:
            log(reason)
            result["skipped"].append(reason)
            continue
        eval_set = corpus.eval_set()
        if quick:
            eval_set = EvalSet(eval_set.queries[:30], eval_set.related[:10])
        entry = {
            "name": corpus.name,
            "sources": [str(s) for s in corpus.sources],
            "eval_path": str(corpus.eval_path),
            "queries": len(eval_set.queries),
            "related_items": len(eval_set.related),
            "query_counts": _counts(eval_set),
            "systems": {},
        }
        for model in models:
            embedder = load_embedder(model)
            work = common.OUT / "quality" / f"{corpus.name}-{model}"
            shutil.rmtree(work, ignore_errors=True)
            report, seconds = common.build_index(corpus, work / "index", model, embedder)
            entry.update(resources=report.resources, notes=report.notes, passages=report.passages)
            log(
                f"  {corpus.name}: built {report.passages} passages with {model} in {seconds:.1f} s"
            )
            searcher = Searcher.open(work / "index", embedder)
            entry["systems"].update(_recall_systems(searcher, eval_set, model))
            if model == DEFAULT_MODEL:
                entry["systems"].update(_baseline_systems(searcher, eval_set, embedder))
            searcher.reader.close()
            log(f"  {corpus.name}: scored {len(entry['systems'])} systems")
        result["corpora"].append(entry)
    return result


def _counts(eval_set: EvalSet) -> dict:
    counts: dict[str, int] = {}
    for item in eval_set.queries:
        for key in ("lang", "kind"):
            if item.get(key):
                name = f"{key}={item[key]}"
                counts[name] = counts.get(name, 0) + 1
    return counts


# ------------------------------------------------------------------ reporting


def _split(metrics: dict, split: str, name: str = "mrr") -> float:
    value = metrics["splits"].get(split, {}).get(f"{name}@{common.K}")
    return float("nan") if value is None else value


def _f3(value: float) -> str:
    return "–" if np.isnan(value) else f"{value:.3f}"


def targets(result: dict) -> list[dict]:
    """Recall's default beats every baseline on MRR@10 overall and on Korean queries."""
    rows = []
    for entry in result["corpora"]:
        systems = entry["systems"]
        if DEFAULT_SYSTEM not in systems:
            continue
        ours = systems[DEFAULT_SYSTEM]
        for label, get in (
            ("overall", lambda m: m[f"mrr@{common.K}"]),
            ("Korean queries", lambda m: _split(m, "lang=ko")),
        ):
            best_name = max(
                (b for b in BASELINES if b in systems), key=lambda b: get(systems[b]), default=None
            )
            if best_name is None or np.isnan(get(ours)):
                continue
            mine, theirs = get(ours), get(systems[best_name])
            rows.append(
                {
                    "target": f"{entry['name']}: MRR@10 {label}, Recall default > every baseline",
                    "measured": f"{mine:.3f} vs {theirs:.3f} ({best_name}); "
                    f"ratio {mine / theirs if theirs else float('inf'):.2f}x",
                    "met": mine > theirs,
                }
            )
    return rows


def render(result: dict) -> str:
    parts = ["## 1. Quality", ""]
    parts.append(
        "Indexes are built offline (no internet here, the page cache is empty): each resource "
        "is indexed from what the lists say (title, categories, contributors, notes), not its "
        "page text. Baselines index the very passages Recall indexed (regenerated with the "
        "builder's own `doc_passages` and checked against the stored hashes), and a resource "
        "ranks by its best passage (max aggregation); notes without a URL keep their rank. "
        "txtai uses its defaults (faiss backend, and for `hybrid=True` its BM25 terms index with "
        "its Unicode word tokenizer and convex fusion) with vectors from Recall's bundled "
        "default model through txtai's `external` vectors method, so both embed identically. "
        "BM25 whitespace is bm25s over lower-cased whitespace tokens. Related resources: Recall's "
        "`related`, against txtai / BM25 queried with the resource's own list entry "
        f"(similar-style nearest neighbours, itself excluded); Recall@{RELATED_K}. "
        f"Quality metrics are deterministic: each was computed {REPEATS} times and the runs "
        "compared (column 'same')."
    )
    for note in result["skipped"]:
        parts += ["", f"*Skipped:* {note}"]
    for entry in result["corpora"]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(entry["query_counts"].items()))
        parts += [
            "",
            f"### {entry['name']}: {entry['resources']} resources, {entry['notes']} notes, "
            f"{entry['passages']} passages; {entry['queries']} queries ({counts}), "
            f"{entry['related_items']} related items",
            "",
        ]
        rows = []
        for name, m in entry["systems"].items():
            rel = m.get(f"related_recall@{RELATED_K}")
            rows.append(
                [
                    f"**{name}**" if name == DEFAULT_SYSTEM else name,
                    f"{m[f'mrr@{common.K}']:.3f}",
                    f"{m[f'recall@{common.K}']:.3f}",
                    f"{m[f'ndcg@{common.K}']:.3f}",
                    *(_f3(_split(m, s)) for s in SPLITS[:3]),
                    "–" if rel is None else f"{rel:.3f}",
                    "yes" if m["identical_across_repeats"] else "NO",
                ]
            )
        headers = ["system", "MRR@10", "R@10", "nDCG@10", "MRR ko", "MRR en", "MRR cross"]
        parts.append(common.md_table([*headers, f"related R@{RELATED_K}", "same"], rows))
        parts += ["", "MRR@10 / Recall@10 / nDCG@10 by split:", ""]
        present = [s for s in SPLITS if s in entry["query_counts"]]
        rows = [
            [name]
            + [
                " / ".join(_f3(_split(m, s, metric)) for metric in ("mrr", "recall", "ndcg"))
                for s in present
            ]
            for name, m in entry["systems"].items()
        ]
        parts.append(common.md_table(["system", *present], rows))
        if DEFAULT_SYSTEM in entry["systems"]:
            ours = entry["systems"][DEFAULT_SYSTEM][f"mrr@{common.K}"]
            ratios = [
                f"{b} {ours / entry['systems'][b][f'mrr@{common.K}']:.2f}x"
                for b in BASELINES
                if b in entry["systems"] and entry["systems"][b][f"mrr@{common.K}"]
            ]
            parts += [
                "",
                "Recall default MRR@10 as a multiple of each baseline's: " + ", ".join(ratios),
            ]
    return "\n".join(parts)


def chart(result: dict, path: Path) -> Path | None:
    """MRR@10 by system and query language, one panel per evaluation set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = [e for e in result["corpora"] if e["systems"]]
    if not entries:
        return None
    groups = [("all", None), ("Korean", "lang=ko"), ("English", "lang=en"), ("cross", "kind=cross")]
    fig, axes = plt.subplots(len(entries), 1, figsize=(11, 4.2 * len(entries)), squeeze=False)
    for ax, entry in zip(axes[:, 0], entries, strict=True):
        names = [n for n in entry["systems"] if "[" not in n or "default" in n or "USE-m" in n]
        x = np.arange(len(names))
        width = 0.8 / len(groups)
        for i, (label, split) in enumerate(groups):
            values = [
                entry["systems"][n][f"mrr@{common.K}"]
                if split is None
                else _split(entry["systems"][n], split)
                for n in names
            ]
            ax.bar(x + (i - 1.5) * width, np.nan_to_num(values), width, label=label)
        ax.set_xticks(x, [n.replace(" [", "\n[") for n in names], fontsize=7, rotation=30)
        ax.set_ylim(0, 1)
        ax.set_ylabel("MRR@10")
        ax.set_title(f"{entry['name']} ({entry['queries']} queries)")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(ncols=4, fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="default model, 30 queries")
    args = parser.parse_args()
    common.quiet()
    result = run(quick=args.quick)
    common.write_json(common.OUT / "quality.json", result)
    print(render(result))


if __name__ == "__main__":
    main()
