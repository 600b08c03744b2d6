"""Sub-collections of the adioshun lists: collections of other sizes that nothing was
tuned on, for bench/ablation.py's confidence and ranking tables. Each is a random draw of
some of the lists' files, with the adioshun queries: a query is answerable in a draw when
one of its answers is there, unanswerable when none is (another resource there may still
answer it, so the share of them told "no close match" is a lower bound)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import common

from indexer.config import DEFAULT_MODEL
from indexer.evaluate import EvalSet
from indexer.resources import duplicate_key
from indexer.search import Searcher
from indexer.sources.files import list_files

FILES = (2, 5, 10, 20)  # files of the adioshun lists in a sub-collection ...
DRAWS = 3  # ... drawn this many times each


def draws(embedder, work: Path) -> dict[int, list[tuple[str, EvalSet, Searcher]]]:
    """For each size in FILES, DRAWS random draws of that many of the adioshun lists'
    files, indexed (offline) in `work`: size -> [(name, its queries, its searcher)]."""
    adioshun = next((c for c in common.corpora() if c.name == "adioshun"), None)
    if adioshun is None or adioshun.missing():
        return {}
    files = sorted(list_files(adioshun.sources))
    queries = adioshun.eval_set().queries
    found: dict[int, list[tuple[str, EvalSet, Searcher]]] = {}
    for size in FILES:
        for draw in range(DRAWS):
            picked = random.Random(f"{size}-{draw}").sample(files, min(size, len(files)))
            corpus = common.Corpus(f"{size}-{draw}", tuple(picked), adioshun.eval_path)
            index = work / corpus.name / "index"
            common.build_index(corpus, index, DEFAULT_MODEL, embedder, full=False)
            searcher = Searcher.open(index, embedder)
            held = {duplicate_key(doc["url"]) for doc in searcher.docs if doc["url"]}
            in_draw = [
                {**q, "rel": [url for url in q["rel"] if duplicate_key(url) in held]}
                for q in queries
            ]
            found.setdefault(size, []).append((corpus.name, EvalSet(in_draw), searcher))
    return found


def pooled(summaries: list[dict]) -> tuple[int, float | None, int, float | None]:
    """Several draws' confidence summaries (indexer.evaluate) as one: unanswerable queries,
    the share told "no close match", answerable ones judged, the share of them whose first
    relevant hit is not weak."""
    unanswerable = sum(s["unanswerable"] for s in summaries)
    judged = sum(s["answerable_judged"] for s in summaries)
    told = sum((s["no_close_match_share"] or 0.0) * s["unanswerable"] for s in summaries)
    strong = sum(
        (s["first_relevant_not_weak_share"] or 0.0) * s["answerable_judged"] for s in summaries
    )
    return (
        unanswerable,
        told / unanswerable if unanswerable else None,
        judged,
        strong / judged if judged else None,
    )


def mrr_table(
    subsets: dict[int, list[tuple[str, EvalSet, Searcher]]],
    rankers: dict[str, Callable[[Searcher, EvalSet], dict]],
) -> str:
    """A markdown table of each ranker's MRR@10 (`rankers`: column -> the evaluation of one
    draw, indexer.evaluate's results) per size, the draws pooled by answerable query: the
    report half, the tuning half in brackets."""
    lines = [
        "| sub-collection | answerable queries | " + " | ".join(rankers) + " |",
        "|---|---|" + "---|" * len(rankers),
    ]
    for size, draws in subsets.items():
        cells, counts = [], {}
        for rank in rankers.values():
            halves = [rank(searcher, eval_set)["halves"] for _, eval_set, searcher in draws]
            pooled = {half: _pooled_mrr(halves, half) for half in ("report", "tune")}
            counts = {half: queries for half, (queries, _) in pooled.items()}  # every ranker's
            cells.append(f"{pooled['report'][1]:.3f} ({pooled['tune'][1]:.3f})")
        sizes = sorted(len(searcher.docs) for _, _, searcher in draws)
        lines.append(
            f"| {size} of its files ({sizes[0]}–{sizes[-1]} resources) | {counts['report']} "
            f"({counts['tune']}) | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def _pooled_mrr(halves: list[dict], half: str) -> tuple[int, float]:
    """The answerable queries of several draws' `half` and their MRR@10, each counted once."""
    queries = sum(h[half]["queries"] for h in halves)
    total = sum(h[half][f"mrr@{common.K}"] * h[half]["queries"] for h in halves)
    return queries, total / queries if queries else float("nan")
