"""Per-resource ranking: keyword scores over fields, fusion with the dense ranker on
per-query calibrated scores, the type preference, thin-evidence discount, and how sure
Recall is of each hit."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from indexer.lexical import FieldIndex, Masks, top_k
from indexer.query import QueryPlan, glossary, one_syllable, variant_tokens

FUSIONS = ("zscore", "minmax", "convex", "rrf")
RRF_K = 60
RELATED_POOL = 100  # related: the resources each ranker puts forward
CALIBRATION = Path(__file__).parent / "data" / "calibration.json"


def _default_weights() -> dict[str, float]:
    return {
        "title": 1.0,
        "notes": 0.7,
        "headings": 0.4,
        "url": 0.3,
        "people": 0.2,
        "context": 0.3,
        "page": 0.5,
    }


@dataclass(frozen=True)
class Ranking:
    """Every ranking setting; the defaults were chosen on the tuning half of
    bench/data/*.json (BENCHMARKS.md, ablation)."""

    field_weights: dict[str, float] = field(default_factory=_default_weights)
    fusion: str = "zscore"
    dense_weight: float = 0.6  # share of the dense ranker in the fused score
    bm25_half: float = 20.0  # convex fusion only: the BM25 score worth half a match
    estimate_unseen: bool = False  # fuse keyword-only resources with their vector's similarity
    secondary_weight: float = 0.3  # what a resource's 2nd and 3rd passages add to its best
    coverage_weight: float = 0.4  # the share of the query's words a resource holds
    coverage_idf: bool = True  # ... each word counted by its rarity in the collection
    # ... and as the share itself (0..1): a z-score (or min-max) only says how a candidate
    # stands against the others, so holding every word counted little where many hold half
    coverage_share_weight: float = 1.0
    bridge: bool = True  # glossary terms in the other language count as keyword matches
    bridge_weight: float = 1.0  # ... at this share of the asked term
    bridge_once: bool = True  # ... in place of the asked term where they score more
    word_bridges: bool = True  # other words the model finds the index's translations of
    word_bridge_weight: float = 1.0  # ... count this share of the asked word
    strip_dense: bool = False  # embed the query without its type words
    intent_boost: float = 0.3  # a resource of the kind the query asks for gains this share
    thin_discount: float = 0.1  # a resource whose only text is its link loses this share
    related_keyword_weight: float = 0.5  # related: the shared words' share of the fusion
    related_fields: tuple[str, ...] = ("title",)  # ... in these fields (headings: its siblings)
    kiwi_queries: bool = False  # analyse queries with Kiwi, not against the index's words
    one_syllable_weight: float = 0.25  # a one-syllable Korean query word counts this share

    def word_weight(self, token: str) -> float:
        """What one of the query's words counts for, in keyword scores and in coverage."""
        return self.one_syllable_weight if one_syllable(token) else 1.0

    def with_options(self, **options) -> Ranking:
        known = {f.name for f in fields(self)}
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"unknown ranking options: {', '.join(sorted(unknown))}")
        return replace(self, **options)


def keyword_scores(
    index: FieldIndex, plan: QueryPlan, ranking: Ranking, known: Masks | None = None
) -> np.ndarray:
    """BM25 over the fields for the topic words, plus each glossary bridge's best
    other-language variant at `bridge_weight` (`known`: FieldIndex.holding_all)."""
    weights = ranking.field_weights
    # A word the model bridges is scored alone, once: its bridge weighs the score again.
    alone = {bridge.tokens[0]: None for bridge in plan.bridges if bridge.learned}
    by_weight: dict[float, list[str]] = {}
    for token in plan.topic_tokens:
        by_weight.setdefault(ranking.word_weight(token), []).append(token)
    scores = np.zeros(index.num_docs, dtype=np.float32)
    for weight, tokens in by_weight.items():
        together = [token for token in tokens if token not in alone]
        if together:
            part = index.scores(together, weights)
            part *= weight
            scores += part
        for token in tokens:
            if token in alone and index.knows(token):  # a word no resource holds scores 0
                alone[token] = index.scores([token], weights)
                scores += weight * alone[token]
    if ranking.bridge:
        for bridge in plan.bridges:
            best = None
            for alternative in bridge.alternatives:
                part = _all_of(index, alternative, weights, known)
                if part is not None:
                    best = part if best is None else np.maximum(best, part, out=best)
            if best is None:  # no resource holds the term in the other language
                continue
            best *= ranking.word_bridge_weight if bridge.learned else ranking.bridge_weight
            if ranking.bridge_once:
                # The term counts once, in whichever language scores more: a resource that
                # writes both is not worth twice one that writes either.
                asked = alone.get(bridge.tokens[0]) if bridge.learned else None
                if asked is None:
                    asked = _all_of(index, bridge.tokens, weights, known)
                if asked is not None:
                    best -= asked
                    np.maximum(best, 0.0, out=best)
            scores += best
    return scores


def _all_of(
    index: FieldIndex, tokens: tuple[str, ...], weights: dict[str, float], known: Masks | None
) -> np.ndarray | None:
    """BM25 of a multi-word term, only where every one of its words is present: "neural"
    alone is not "convolutional neural network"; None where no resource holds the term."""
    if not tokens or not all(map(index.knows, tokens)):  # no word, or one no resource holds
        return None
    if len(set(tokens)) == 1:
        return index.scores(tokens, weights)
    names = [name for name, weight in weights.items() if weight]
    holding = index.holding_all(tokens, names, known)
    if not holding.any():  # each word is somewhere, the term nowhere: no BM25 to sum
        return None
    total = index.scores(tokens, weights)
    total *= holding
    return total


@dataclass
class Candidate:
    """One shown resource: what the rankers said of it."""

    pos: int
    dense: float | None  # best passage cosine (+ a share of the next two), None if unseen
    keyword: float
    rows: list[int]  # the resource's passages that the dense ranker returned, best first
    similarity: float | None = None  # cosine of the best of them
    coverage: float = 0.0  # share of the query's topic words the resource holds, or bridges
    score: float = 0.0


@dataclass
class Candidates:
    """The resources either ranker returned, as parallel arrays in the rankers' order (the
    dense ranker's first): one query's hundred candidates cost no hundred objects."""

    pos: np.ndarray  # int64 resource positions
    dense: np.ndarray  # float64 best passage cosine (+ a share of the next two); NaN: unseen
    keyword: np.ndarray  # float64 BM25 over the fields
    similarity: np.ndarray  # float64 cosine of the best passage; NaN: not known
    coverage: np.ndarray  # float64 share of the query's topic words the resource holds, or bridges
    passage_rows: np.ndarray  # int64 passages the dense ranker returned, by resource, best first
    spans: np.ndarray  # int64 (start, end) of each candidate's passages in passage_rows

    def __len__(self) -> int:
        return len(self.pos)

    def at(self, i: int, score: float) -> Candidate:
        start, end = self.spans[i]
        return Candidate(
            int(self.pos[i]),
            _known(self.dense[i]),
            float(self.keyword[i]),
            self.passage_rows[start:end].tolist(),
            _known(self.similarity[i]),
            float(self.coverage[i]),
            score,
        )


def _known(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _normalise(values: np.ndarray, method: str, over: np.ndarray | None = None) -> np.ndarray:
    """`values` min-max scaled or as z-scores, measured over the positions `over` (all by
    default)."""
    measured = values if over is None else values[over]
    if method == "minmax":
        low, high = float(measured.min()), float(measured.max())
        return (values - low) / (high - low) if high > low else np.zeros_like(values)
    mean, std = float(measured.mean()), float(measured.std())
    return (values - mean) / std if std > 1e-9 else np.zeros_like(values)


def fuse(
    candidates: Candidates,
    ranking: Ranking,
    mode: str,
    preferred: np.ndarray | None,
    thin: np.ndarray,
) -> np.ndarray:
    """Each candidate's fused score (float64). A resource the dense ranker did not return
    counts as its weakest returned one."""
    if not len(candidates):
        return np.zeros(0)
    unseen = np.isnan(candidates.dense)
    floor = float(candidates.dense[~unseen].min()) if not unseen.all() else 0.0
    dense = np.where(unseen, floor, candidates.dense)
    keyword = candidates.keyword
    if mode == "dense":
        fused = dense.copy()
    elif mode == "lexical":
        fused = keyword.copy()
    elif ranking.fusion == "rrf":
        fused = np.zeros(len(candidates))
        for values in (dense, keyword):
            ranks = np.empty(len(values))
            ranks[np.argsort(-values, kind="stable")] = np.arange(len(values))
            fused += 1.0 / (RRF_K + ranks + 1)
    elif ranking.fusion == "convex":
        fused = ranking.dense_weight * np.maximum(dense, 0) + (1 - ranking.dense_weight) * (
            keyword / (keyword + ranking.bm25_half)
        )
    else:
        fused = ranking.dense_weight * _normalise(dense, ranking.fusion) + (
            1 - ranking.dense_weight
        ) * _normalise(keyword, ranking.fusion)
        coverage = candidates.coverage
        fused += ranking.coverage_weight * _normalise(coverage, ranking.fusion)
        fused += ranking.coverage_share_weight * coverage
    if mode == "hybrid" and ranking.fusion in ("zscore", "minmax"):
        # Preference and discount scale a resource's own relevance (rescaled to 0..1 over
        # the candidates): a paper on another topic gains little from being a paper.
        positions = candidates.pos
        fused = _normalise(fused, "minmax")
        factor = 1.0 - ranking.thin_discount * thin[positions]
        if preferred is not None:
            factor += ranking.intent_boost * preferred[positions]
        fused *= factor
    return fused


def related_pool(similarity: np.ndarray, keyword: np.ndarray) -> np.ndarray:
    """The resources in the running for "related": the best `RELATED_POOL` of each ranker
    (the resource vectors' similarity, the shared words' BM25)."""
    return np.union1d(
        np.argsort(-similarity, kind="stable")[:RELATED_POOL], top_k(keyword, RELATED_POOL)[0]
    )


def fuse_related(
    similarity: np.ndarray, keyword: np.ndarray, pool: np.ndarray, ranking: Ranking
) -> np.ndarray:
    """Every resource's related score: each ranker's z-score, measured over `pool`, the
    keyword ranker's at `related_keyword_weight`. As in a search, a similarity and a
    keyword score mean nothing side by side."""
    share = ranking.related_keyword_weight
    fused = (1 - share) * _normalise(similarity, "zscore", pool)
    return fused + share * _normalise(keyword, "zscore", pool)


@dataclass(frozen=True)
class Calibration:
    """P(relevant) of a hit from its dense similarity, its keyword coverage and the query's
    `absence` (a glossary term no resource holds), fitted on the tuning half for one model;
    `threshold` is the probability below which a hit is weak."""

    intercept: float
    dense: float
    coverage: float
    absent: float  # the weight of `absence`
    threshold: float

    def probability(self, dense: float, coverage: float, absence: float) -> float:
        z = self.intercept + self.dense * dense + self.coverage * coverage + self.absent * absence
        return 1.0 / (1.0 + math.exp(-z))


def glossary_held(index: FieldIndex) -> float:
    """The share of the glossary's entries that some resource holds in one of its variants:
    how much of the field's vocabulary the collection writes (the sample list's eleven
    resources: 5%; the adioshun lists: 36%)."""
    entries, known = glossary(), {}  # each word's mask made once for all the variants
    held = sum(
        any(index.any_holds(tokens, known) for tokens in map(variant_tokens, entry.variants))
        for entry in entries
    )
    return held / len(entries) if entries else 0.0


def load_calibration(model: str, path: Path = CALIBRATION) -> Calibration | None:
    """The calibration fitted for `model`, or None when none was (a model Recall was not
    measured with: its hits are then never called weak)."""
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = table.get("models", {}).get(model)
    if not isinstance(entry, dict):
        return None
    try:
        return Calibration(
            float(entry["intercept"]),
            float(entry["dense"]),
            float(entry["coverage"]),
            float(entry.get("absent", 0.0)),  # fitted before the feature: no weight
            float(entry["threshold"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
