"""Retrieval quality on a labelled query set: MRR@k, Recall@k, nDCG@k, related Recall@5."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.resources import duplicate_key

RELATED_K = 5
# The sampling error of a mean over queries: a 95% percentile bootstrap interval over
# this many resamples of the queries (a fixed seed: the same file gives the same interval).
RESAMPLES = 2000


class EvalSetError(ValueError):
    """The evaluation file is missing or not in the expected shape."""


@dataclass
class EvalSet:
    queries: list[dict]
    related: list[dict] = field(default_factory=list)


def load_eval_set(path: Path) -> EvalSet:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EvalSetError(f"no such evaluation file: {path}") from exc
    except (OSError, ValueError) as exc:
        raise EvalSetError(f"cannot read evaluation file {path}: {exc}") from exc
    # Neither key (an empty object, a misspelt "querys"): nothing would be measured.
    if (
        not isinstance(data, dict)
        or not {"queries", "related"} & data.keys()
        or not isinstance(data.get("queries", []), list)
    ):
        raise EvalSetError(f'{path}: expected {{"queries": [...], "related": [...]}}')
    queries = data.get("queries", [])
    for position, item in enumerate(queries):
        if not isinstance(item, dict) or "q" not in item or not isinstance(item.get("rel"), list):
            raise EvalSetError(f'{path}: query {position} needs "q" and a "rel" list')
    related = data.get("related", [])
    for position, item in enumerate(related):
        if not isinstance(item, dict) or "of" not in item or not isinstance(item.get("rel"), list):
            raise EvalSetError(f'{path}: related item {position} needs "of" and a "rel" list')
    return EvalSet(queries, related)


def query_metrics(ranked_urls: list[str], relevant: list[str], k: int) -> dict[str, float]:
    """MRR@k, Recall@k and nDCG@k (binary relevance) of one ranking; a relevant page counts
    under any of its addresses (http or https, youtu.be or watch?v=)."""
    wanted = {duplicate_key(url) for url in relevant}
    top = [duplicate_key(url) for url in ranked_urls[:k]]
    first = next((rank for rank, url in enumerate(top, start=1) if url in wanted), None)
    found = len(wanted & set(top))
    # A relevant URL counts once, at its best rank: a ranking that repeats it gains nothing.
    dcg = sum(
        1 / math.log2(rank + 1)
        for rank, url in enumerate(top, start=1)
        if url in wanted and url not in top[: rank - 1]
    )
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(wanted), k) + 1))
    return {
        "mrr": 1 / first if first else 0.0,
        "recall": found / len(wanted) if wanted else 0.0,
        "ndcg": dcg / ideal if ideal else 0.0,
    }


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


@dataclass
class Ranked:
    """A ranking with Recall's confidence: which hits are weak, and whether none is close."""

    urls: list[str]
    weak: list[bool]
    no_close_match: bool


def _split_names(item: dict) -> list[str]:
    names = [f"{key}={item[key]}" for key in ("lang", "kind") if item.get(key)]
    if item.get("type_intent"):
        names.append("type=any")
    return names


def interval(values: list[float]) -> list[float] | None:
    """The 95% bootstrap interval of the mean of `values` (one per query): how far the
    figure may move on another draw of as many questions. None without values."""
    if not values:
        return None
    sample = np.asarray(values, dtype=np.float64)
    draws = np.random.default_rng(0).integers(0, len(sample), (RESAMPLES, len(sample)))
    low, high = np.quantile(sample[draws].mean(axis=1), [0.025, 0.975])
    return [round(float(low), 4), round(float(high), 4)]


def summarise(per_query: list[dict], k: int) -> dict:
    """MRR/Recall/nDCG over the answerable queries (MRR with its interval), by split, and
    the confidence figures: the share of unanswerable queries told "no close match" and the
    share of answerable ones whose first relevant hit is not weak."""
    answerable = [q for q in per_query if q["answerable"]]
    summary = {"queries": len(answerable)}
    for name in ("mrr", "recall", "ndcg"):
        summary[f"{name}@{k}"] = _mean([q[name] for q in answerable])
    summary[f"mrr@{k}_interval"] = interval([q["mrr"] for q in answerable])
    splits: dict[str, dict] = {}
    for split in sorted({name for q in answerable for name in q["splits"]}):
        group = [q for q in answerable if split in q["splits"]]
        splits[split] = {"n": len(group)}
        for name in ("mrr", "recall", "ndcg"):
            splits[split][f"{name}@{k}"] = _mean([q[name] for q in group])
    summary["splits"] = splits
    unanswerable = [q for q in per_query if not q["answerable"]]
    judged = [q for q in answerable if q.get("first_relevant_weak") is not None]
    if unanswerable or judged:
        told = [q["no_close_match"] for q in unanswerable if q["no_close_match"] is not None]
        summary["confidence"] = {
            "unanswerable": len(unanswerable),
            "no_close_match_share": _mean([float(v) for v in told]) if told else None,
            "answerable_judged": len(judged),
            "first_relevant_not_weak_share": _mean(
                [float(not q["first_relevant_weak"]) for q in judged]
            )
            if judged
            else None,
        }
    return summary


def evaluate(
    eval_set: EvalSet,
    rank: Callable[[str, int], list[str] | Ranked],
    related: Callable[[str, int], list[str]] | None = None,
    k: int = 10,
) -> dict:
    """Score a ranker (query, k -> URLs, or a `Ranked` with confidence) and optionally a
    related ranker (url, k -> URLs).

    Splits by the optional "lang", "kind" and "type_intent" fields of each query; a query
    whose "rel" is empty is unanswerable and only counts in the confidence figures. When
    the file marks a "split" (tune / report) on its queries, each half is summarised too.
    """
    per_query = []
    for item in eval_set.queries:
        ranked = rank(item["q"], k)
        if not isinstance(ranked, Ranked):
            ranked = Ranked(list(ranked), [], False)
        metrics = query_metrics(ranked.urls, item["rel"], k)
        wanted = {duplicate_key(url) for url in item["rel"]}
        first = next(
            (i for i, url in enumerate(ranked.urls[:k]) if duplicate_key(url) in wanted), None
        )
        known = len(ranked.weak) == len(ranked.urls)
        per_query.append(
            {
                "id": item.get("id"),
                "q": item["q"],
                "lang": item.get("lang"),
                "kind": item.get("kind"),
                "half": item.get("split"),
                "splits": _split_names(item),
                "answerable": bool(item["rel"]),
                **metrics,
                "first_relevant_weak": ranked.weak[first] if known and first is not None else None,
                "no_close_match": ranked.no_close_match if known else None,
                "top": ranked.urls[:3],
            }
        )
    result = {"k": k, **summarise(per_query, k), "per_query": per_query}
    halves = sorted({q["half"] for q in per_query if q["half"]})
    if halves:
        result["halves"] = {
            half: summarise([q for q in per_query if q["half"] == half], k) for half in halves
        }
    if related is not None and eval_set.related:
        result.update(_related(eval_set.related, related))
    return result


def _related(items: list[dict], related: Callable[[str, int], list[str]]) -> dict:
    recalls: dict[str | None, list[float]] = {}
    for item in items:
        urls = related(item["of"], RELATED_K)
        recall = query_metrics(urls, item["rel"], RELATED_K)["recall"]
        recalls.setdefault(item.get("split"), []).append(recall)
    every = [value for values in recalls.values() for value in values]
    result = {f"related_recall@{RELATED_K}": _mean(every), "related_items": len(every)}
    halves = {half: values for half, values in recalls.items() if half}
    if halves:
        result["related_halves"] = {
            half: {"items": len(values), f"related_recall@{RELATED_K}": _mean(values)}
            for half, values in sorted(halves.items())
        }
    return result
