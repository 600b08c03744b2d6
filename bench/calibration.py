"""The weak-hit calibration: P(relevant) of a hit from its similarity, its keyword
coverage and the query's absence (`Searcher.absence`: the share of the glossary the
collection holds when the query names a glossary term no resource holds, else 0), fitted
on the tuning half of the labelled sets, and the threshold that comes closest to the issue's two
confidence targets there. Run by `bench/ablation.py --calibrate`."""

from __future__ import annotations

import common
import numpy as np

from indexer.rank import Ranking
from indexer.resources import duplicate_key


def _features(opened, ranking: Ranking, half: str) -> tuple[np.ndarray, np.ndarray, list]:
    """(similarity, coverage, the query's `Searcher.absence`) of
    every top-10 hit of every query of `half`, with whether it is relevant; and per query
    the position of its first relevant hit."""
    x, y, queries = [], [], []
    for scenario, searcher in opened:
        if scenario.name == "collection":
            continue
        searcher.ranking = ranking
        for item in scenario.eval_set.queries:
            if item.get("split") != half:
                continue
            wanted = {duplicate_key(u) for u in item["rel"]}
            response = searcher.search(item["q"], k=common.K)
            hits, absent = response.results, searcher.absence(response.absent_terms)
            start = len(x)
            first = None
            for i, hit in enumerate(hits):
                relevant = duplicate_key(hit.url) in wanted
                first = i if relevant and first is None else first
                x.append((hit.similarity or 0.0, hit.coverage, absent))
                y.append(relevant)
            queries.append((bool(wanted), start, len(x), first))
    return np.array(x, dtype=float), np.array(y, dtype=float), queries


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 200) -> np.ndarray:
    """Newton's method for logistic regression with a small ridge (intercept first)."""
    design = np.hstack([np.ones((len(x), 1)), x])
    weights = np.zeros(design.shape[1])
    ridge = 1e-3 * np.eye(design.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ weights))
        gradient = design.T @ (p - y) + ridge @ weights
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + ridge
        weights -= np.linalg.solve(hessian, gradient)
    return weights


STRONG_TARGET = 0.95  # the targets: first relevant hits not weak ...
TOLD_TARGET = 0.80  # ... and unanswerable questions told "no close match"


def calibrate(opened, ranking: Ranking) -> dict:
    """Fit P(relevant | similarity, coverage, absence) on the tuning half and choose the
    threshold that comes closest to both targets there: the smallest largest shortfall of the
    first relevant hits kept strong and of the unanswerable questions told (ties: the lowest
    threshold, the fewest hits called weak)."""
    x, y, queries = _features(opened, ranking, "tune")
    weights = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-(weights[0] + x @ weights[1:])))
    firsts = np.array(
        [p[start + first] for ok, start, _, first in queries if ok and first is not None]
    )
    best_of_unanswerable = np.array(
        [p[start:end].max() for ok, start, end, _ in queries if not ok and end > start]
    )

    def shares(threshold: float) -> tuple[float, float]:
        strong = float((firsts >= threshold).mean()) if len(firsts) else 1.0
        told = (
            float((best_of_unanswerable < threshold).mean()) if len(best_of_unanswerable) else 0.0
        )
        return strong, told

    def shortfall(threshold: float) -> float:
        strong, told = shares(threshold)
        return max(STRONG_TARGET - strong, TOLD_TARGET - told, 0.0)

    candidates = sorted({0.0, *firsts.tolist(), *best_of_unanswerable.tolist()})
    threshold = min(candidates, key=lambda t: (round(shortfall(t), 9), t))
    strong, told = shares(threshold)
    return {
        "intercept": round(float(weights[0]), 4),
        "dense": round(float(weights[1]), 4),
        "coverage": round(float(weights[2]), 4),
        "absent": round(float(weights[3]), 4),
        "threshold": round(threshold, 4),
        "tune_first_relevant_not_weak": round(strong, 3),
        "tune_no_close_match_share": round(told, 3),
    }
