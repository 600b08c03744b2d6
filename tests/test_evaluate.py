"""Retrieval metrics computed by hand, the evaluation loop, and eval-file errors."""

from __future__ import annotations

import json
import math

import pytest

from indexer.evaluate import (
    EvalSet,
    EvalSetError,
    evaluate,
    interval,
    load_eval_set,
    query_metrics,
)

A, B, C, D, E = (f"https://ex.com/{name}" for name in "abcde")


def log_gain(rank: int) -> float:
    return 1 / math.log2(rank + 1)


# --- one ranking --------------------------------------------------------------------------


def test_first_hit_relevant():
    assert query_metrics([A, B, C], [A], k=10) == {"mrr": 1.0, "recall": 1.0, "ndcg": 1.0}


def test_relevant_at_rank_three():
    metrics = query_metrics([B, C, A], [A], k=10)
    assert metrics["mrr"] == pytest.approx(1 / 3)
    assert metrics["recall"] == 1.0
    # DCG 1/log2(4) = 0.5 over an ideal of 1.
    assert metrics["ndcg"] == pytest.approx(0.5)


def test_two_relevant_one_found():
    metrics = query_metrics([B, A, C], [A, D], k=10)
    assert metrics["mrr"] == pytest.approx(0.5)
    assert metrics["recall"] == pytest.approx(0.5)
    # DCG 1/log2(3); ideal puts both relevant at ranks 1 and 2.
    assert metrics["ndcg"] == pytest.approx(log_gain(2) / (log_gain(1) + log_gain(2)))
    assert metrics["ndcg"] == pytest.approx(0.3869, abs=1e-4)


def test_two_relevant_both_found_at_ranks_one_and_three():
    metrics = query_metrics([A, B, D], [A, D], k=10)
    assert metrics["mrr"] == 1.0
    assert metrics["recall"] == 1.0
    assert metrics["ndcg"] == pytest.approx((1 + 0.5) / (1 + log_gain(2)))


def test_nothing_relevant_found_or_nothing_ranked():
    assert query_metrics([B, C], [A], k=10) == {"mrr": 0.0, "recall": 0.0, "ndcg": 0.0}
    assert query_metrics([], [A], k=10) == {"mrr": 0.0, "recall": 0.0, "ndcg": 0.0}
    assert query_metrics([A], [], k=10) == {"mrr": 0.0, "recall": 0.0, "ndcg": 0.0}


def test_only_the_top_k_count():
    metrics = query_metrics([B, C, A], [A], k=2)
    assert metrics == {"mrr": 0.0, "recall": 0.0, "ndcg": 0.0}
    # The ideal DCG is cut at k too: three relevant but k=2 means two ideal ranks.
    metrics = query_metrics([A, B], [A, B, C], k=2)
    assert metrics["ndcg"] == pytest.approx(1.0)
    assert metrics["recall"] == pytest.approx(2 / 3)


def test_urls_match_in_any_form():
    ranked = ["HTTPS://EX.com/a?utm_source=chat&fbclid=xyz#top"]
    assert query_metrics(ranked, ["https://ex.com/a"], k=5)["mrr"] == 1.0


def test_a_relevant_page_counts_under_any_of_its_addresses():
    video, mobile = "https://youtu.be/njKP3FqW3Sk", "https://m.youtube.com/watch?v=njKP3FqW3Sk"
    assert query_metrics([A, video], [mobile], k=5) == pytest.approx(
        {"mrr": 0.5, "recall": 1.0, "ndcg": 1 / math.log2(3)}
    )
    assert query_metrics(["http://ex.com/a/"], ["https://www.ex.com/a"], k=5)["mrr"] == 1.0
    assert query_metrics(["https://ex.com/b"], ["https://ex.com/a"], k=5)["mrr"] == 0.0


def test_a_repeated_relevant_url_counts_once():
    metrics = query_metrics([A, A, A], [A], k=10)
    assert metrics == {"mrr": 1.0, "recall": 1.0, "ndcg": 1.0}
    assert query_metrics([B, A, A], [A, C], k=10)["ndcg"] <= 1.0


# --- the loop over a set ------------------------------------------------------------------


RANKINGS = {
    "first": [A, B, C],
    "second": [B, A, C],
    "miss": [C, D],
    "half": [A, E],
}
EVAL_SET = EvalSet(
    queries=[
        {"q": "first", "rel": [A], "lang": "en", "kind": "keyword"},
        {"q": "second", "rel": [A], "lang": "ko", "kind": "keyword"},
        {"q": "miss", "rel": [A], "lang": "ko", "kind": "paraphrase"},
        {"q": "half", "rel": [A, B], "lang": "en"},
    ],
    related=[{"of": A, "rel": [B, C]}, {"of": B, "rel": [D]}],
)


def rank(query: str, k: int) -> list[str]:
    return RANKINGS[query][:k]


def related(url: str, k: int) -> list[str]:
    return {A: [C, E, B], B: [A]}[url][:k]


def test_evaluate_means_and_splits_by_hand():
    result = evaluate(EVAL_SET, rank, related, k=10)
    half_ndcg = 1 / (1 + log_gain(2))  # A found at 1, B missing: DCG 1, ideal 1 + 1/log2(3)
    assert result["k"] == 10 and result["queries"] == 4
    assert result["mrr@10"] == pytest.approx((1 + 0.5 + 0 + 1) / 4, abs=1e-4)
    assert result["recall@10"] == pytest.approx((1 + 1 + 0 + 0.5) / 4, abs=1e-4)
    assert result["ndcg@10"] == pytest.approx((1 + log_gain(2) + 0 + half_ndcg) / 4, abs=1e-4)
    splits = result["splits"]
    assert set(splits) == {"lang=en", "lang=ko", "kind=keyword", "kind=paraphrase"}
    assert splits["lang=en"]["n"] == 2
    assert splits["lang=en"]["mrr@10"] == pytest.approx(1.0)
    assert splits["lang=en"]["recall@10"] == pytest.approx(0.75)
    assert splits["lang=ko"]["mrr@10"] == pytest.approx(0.25)
    assert splits["kind=keyword"]["ndcg@10"] == pytest.approx((1 + log_gain(2)) / 2, abs=1e-4)
    assert splits["kind=paraphrase"] == {"n": 1, "mrr@10": 0.0, "recall@10": 0.0, "ndcg@10": 0.0}
    # Related: A's neighbours hold B and C (recall 1), B's hold no D (recall 0).
    assert result["related_recall@5"] == pytest.approx(0.5)
    assert result["related_items"] == 2
    first = result["per_query"][0]
    assert first["q"] == "first" and first["top"] == [A, B, C]


def test_evaluate_passes_k_to_the_ranker_and_skips_related_without_a_ranker():
    seen = []

    def recording(query, k):
        seen.append(k)
        return rank(query, k)

    result = evaluate(EVAL_SET, recording, None, k=1)
    assert set(seen) == {1}
    assert result["mrr@1"] == pytest.approx((1 + 0 + 0 + 1) / 4)
    assert "related_recall@5" not in result


def test_empty_set_scores_zero():
    result = evaluate(EvalSet([]), rank, related, k=10)
    assert result["queries"] == 0
    assert result["mrr@10"] == 0.0
    assert result["mrr@10_interval"] is None
    assert result["splits"] == {}


def test_mrr_comes_with_its_bootstrap_interval():
    result = evaluate(EVAL_SET, rank, related, k=10)
    low, high = result["mrr@10_interval"]  # per query 1, 0.5, 0, 1: mean 0.625
    assert 0.0 <= low < result["mrr@10"] < high <= 1.0
    assert interval([1.0, 0.5, 0.0, 1.0]) == [low, high]  # the same draws every time


def test_the_interval_narrows_with_more_queries_and_vanishes_without_spread():
    few, many = interval([1.0, 0.0] * 5), interval([1.0, 0.0] * 200)
    assert few[0] < many[0] < 0.5 < many[1] < few[1]
    assert many[1] - many[0] < 0.15  # about 4 standard errors of 0.5 / sqrt(400)
    assert interval([0.5] * 7) == [0.5, 0.5]
    assert interval([]) is None


# --- the file -----------------------------------------------------------------------------


def test_load_eval_set(tmp_path):
    path = tmp_path / "eval.json"
    path.write_text(
        json.dumps({"queries": [{"q": "질문", "rel": [A]}], "related": [{"of": A, "rel": [B]}]}),
        encoding="utf-8",
    )
    loaded = load_eval_set(path)
    assert loaded.queries == [{"q": "질문", "rel": [A]}]
    assert loaded.related == [{"of": A, "rel": [B]}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such evaluation file"),
        ("{not json", "cannot read evaluation file"),
        ("[1, 2]", "expected"),
        ("{}", "expected"),
        ('{"querys": [{"q": "x", "rel": []}]}', "expected"),
        ('{"queries": {"q": "x"}}', "expected"),
        ('{"queries": [{"q": "x"}]}', 'query 0 needs "q" and a "rel" list'),
        ('{"queries": [{"q": "x", "rel": "https://ex.com"}]}', "query 0"),
        ('{"queries": [], "related": [{"rel": []}]}', 'related item 0 needs "of"'),
    ],
)
def test_bad_eval_files_say_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "eval.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalSetError, match=message) as error:
        load_eval_set(path)
    assert str(path) in str(error.value)


def test_halves_type_split_and_confidence_are_reported():
    from indexer.evaluate import Ranked

    queries = [
        {"id": "q1", "q": "one", "rel": [A], "lang": "en", "split": "tune"},
        {"id": "q2", "q": "two", "rel": [B], "lang": "ko", "split": "report",
         "type_intent": "paper"},
        {"id": "q3", "q": "none", "rel": [], "lang": "en", "kind": "unanswerable",
         "split": "report"},
        {"id": "q4", "q": "none either", "rel": [], "split": "report"},
    ]  # fmt: skip
    answers = {
        "one": Ranked([A, B], [False, True], False),
        "two": Ranked([C, B], [True, True], True),  # relevant at 2, and weak
        "none": Ranked([C], [True], True),
        "none either": Ranked([C], [False], False),
    }
    result = evaluate(EvalSet(queries), lambda q, k: answers[q], k=10)
    assert result["queries"] == 2  # unanswerable queries are not in MRR
    assert result["mrr@10"] == pytest.approx((1 + 0.5) / 2)
    report = result["halves"]["report"]
    assert report["queries"] == 1 and report["mrr@10"] == 0.5
    assert report["splits"]["type=any"]["n"] == 1
    assert report["confidence"] == {
        "unanswerable": 2,
        "no_close_match_share": 0.5,
        "answerable_judged": 1,
        "first_relevant_not_weak_share": 0.0,
    }
    assert result["halves"]["tune"]["confidence"]["first_relevant_not_weak_share"] == 1.0
