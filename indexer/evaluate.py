"""Retrieval quality on a labelled query set: MRR@k, Recall@k, nDCG@k, related Recall@5."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from indexer.resources import normalize_url

RELATED_K = 5


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
    if not isinstance(data, dict) or not isinstance(data.get("queries", []), list):
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
    """MRR@k, Recall@k and nDCG@k (binary relevance) of one ranking."""
    wanted = {normalize_url(url) for url in relevant}
    top = [normalize_url(url) for url in ranked_urls[:k]]
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


def evaluate(
    eval_set: EvalSet,
    rank: Callable[[str, int], list[str]],
    related: Callable[[str, int], list[str]] | None = None,
    k: int = 10,
) -> dict:
    """Score a ranker (query, k -> URLs) and optionally a related ranker (url, k -> URLs).

    Splits by the optional "lang" and "kind" fields of each query.
    """
    per_query = []
    for item in eval_set.queries:
        urls = rank(item["q"], k)
        metrics = query_metrics(urls, item["rel"], k)
        per_query.append(
            {
                "q": item["q"],
                "lang": item.get("lang"),
                "kind": item.get("kind"),
                **metrics,
                "top": urls[:3],
            }
        )
    summary = {
        f"{name}@{k}": _mean([q[name] for q in per_query]) for name in ("mrr", "recall", "ndcg")
    }
    splits: dict[str, dict] = {}
    for field_name in ("lang", "kind"):
        for value in sorted({q[field_name] for q in per_query if q[field_name]}):
            group = [q for q in per_query if q[field_name] == value]
            splits[f"{field_name}={value}"] = {
                "n": len(group),
                f"mrr@{k}": _mean([q["mrr"] for q in group]),
                f"recall@{k}": _mean([q["recall"] for q in group]),
                f"ndcg@{k}": _mean([q["ndcg"] for q in group]),
            }
    result = {
        "k": k,
        "queries": len(per_query),
        **summary,
        "splits": splits,
        "per_query": per_query,
    }
    if related is not None and eval_set.related:
        recalls = []
        for item in eval_set.related:
            urls = related(item["of"], RELATED_K)
            recalls.append(query_metrics(urls, item["rel"], RELATED_K)["recall"])
        result[f"related_recall@{RELATED_K}"] = _mean(recalls)
        result["related_items"] = len(recalls)
    return result
