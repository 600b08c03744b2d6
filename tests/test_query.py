"""Query understanding and collection-scale ranking: type words as a soft preference,
the Korean–English glossary, thin resources, field-aware keywords, and the bundled tables."""

from __future__ import annotations

import numpy as np
import pytest
from fakes import FakeEmbedder

from indexer.lexical import FieldIndex
from indexer.morphology import analyse_many
from indexer.query import (
    GLOSSARY,
    TYPE_WORDS,
    glossary,
    plan_query,
    type_words,
    variant_tokens,
)
from indexer.rank import Ranking, keyword_scores
from indexer.search import Searcher


def plan(text: str, **options):
    options = {"strip_dense": False, "bridge": True, **options}
    return plan_query(text, analyse_many([text])[0], **options)


# --- the tables ---------------------------------------------------------------------------


def test_the_glossary_is_a_sourced_table_of_at_least_300_terms():
    entries = glossary()
    assert len(entries) >= 300
    variants = [v for entry in entries for v in entry.variants]
    assert len(variants) == len(set(variants)), "a variant in two entries is ambiguous"
    assert all(entry.english and entry.korean for entry in entries)
    rows = [
        line.split("\t")
        for line in GLOSSARY.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    legend = GLOSSARY.read_text(encoding="utf-8")
    for _, _, sources in rows[1:]:
        for key in sources.split(","):
            assert f"src={key}:" in legend, f"source {key!r} has no legend line"


def test_type_words_name_the_kinds_the_issue_lists():
    words = type_words()
    for word, intent in [
        ("논문", "paper"), ("paper", "paper"), ("강의", "lecture"), ("course", "lecture"),
        ("책", "book"), ("book", "book"), ("코드", "code"), ("구현", "code"), ("repo", "code"),
        ("튜토리얼", "tutorial"), ("tutorial", "tutorial"), ("영상", "video"), ("video", "video"),
    ]:  # fmt: skip
        assert words.intent_of[word] == intent
    assert words.types_of["paper"] >= {"paper", "pdf"}
    assert words.intents_in("Paper · 31_Tensorflow") == {"paper"}
    assert words.intents_in("동영상 강의 모음") == {"video", "lecture"}
    assert words.intents_in("Papers we love") == {"paper"}
    assert words.intents_in("encoder") == set()  # "code" only as a whole word in Latin
    assert TYPE_WORDS.exists()


# --- query plans ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "intents", "topic"),
    [
        ("LSTM 논문", {"paper"}, ["lstm"]),
        ("강화학습 강의", {"lecture"}, ["강화학습", "강화", "학습"]),
        ("GAN implementation code", {"code"}, ["gan"]),
        ("object detection tutorial video", {"tutorial", "video"}, ["object", "detect"]),
        ("PyTorch tutorials", {"tutorial"}, ["pytorch"]),
        # a type word's stem is not a type word: "sliding" is not "slides", "guided" no guide
        ("sliding window attention", set(), ["slide", "window", "attent"]),
        ("guided diffusion coding", set(), ["guid", "diffus", "code"]),
        ("논문", set(), ["논문"]),  # nothing but a type word: it stays the topic
    ],
)
def test_type_words_leave_the_topic(query, intents, topic):
    found = plan(query, bridge=False)
    assert found.intents == intents
    assert found.topic_tokens == topic


def test_the_dense_query_can_drop_type_words():
    assert plan("LSTM 논문을", strip_dense=True).dense_text == "LSTM 을"
    assert plan("LSTM 논문을").dense_text == "LSTM 논문을"


def test_glossary_bridges_korean_and_english():
    korean = plan("합성곱신경망으로 이미지 분류")
    alternatives = {alt for bridge in korean.bridges for alt in bridge.alternatives}
    assert ("convolut", "neural", "network") in alternatives  # Latin words as their stems
    assert ("cnn",) in alternatives
    english = plan("transfer learning for small data")
    alternatives = {alt for bridge in english.bridges for alt in bridge.alternatives}
    assert any("전이" in "".join(alt) for alt in alternatives)
    assert plan("transfer learning", bridge=False).bridges == []


def test_a_variant_left_as_a_lone_letter_stands_for_nothing():
    assert variant_tokens("i.i.d.") == ()  # "d" to the analyser: any text with a "d"
    assert variant_tokens("n-그램") == ()
    assert variant_tokens("도커") == ()  # 크 to the analyser
    assert variant_tokens("iid") == ("iid",)
    assert variant_tokens("k-means") == ("k", "mean")  # a letter beside other words is kept
    iid = plan("iid 가정이 깨질 때")
    alternatives = {alt for bridge in iid.bridges for alt in bridge.alternatives}
    assert ("d",) not in alternatives and ("독립", "동일", "분포") in alternatives


def test_a_glossary_term_counts_once_in_the_language_that_scores_more():
    """A resource that writes "attention" and "어텐션" is not worth twice one that writes
    either: the term counts once, as asked or bridged, whichever scores more."""
    index = FieldIndex.from_tokens(
        {
            "title": [["attent"], ["attent"], [], ["gan"]],  # "attention" as its stem
            "notes": [["어텐션", "설명"], [], ["어텐션"], []],
        }
    )
    query = plan("attention")
    weights = Ranking().field_weights
    asked, bridged = index.scores(["attent"], weights), index.scores(["어텐션"], weights)
    assert (asked > 0).sum() == 2 and (bridged > 0).sum() == 2
    once = keyword_scores(index, query, Ranking())
    np.testing.assert_allclose(once, np.maximum(asked, bridged), rtol=1e-6)
    summed = keyword_scores(index, query, Ranking(bridge_once=False))
    np.testing.assert_allclose(summed, asked + bridged, rtol=1e-6)


# --- ranking on a small collection --------------------------------------------------------

COLLECTION = """# 모음

## 김철수 (2020.01.02)

* [Transfer Learning with pretrained networks](https://example.org/transfer)

## 이영희 (2020.01.03)

* [https://deeplearning.example.net/](https://deeplearning.example.net/)

* [Attention 메커니즘 정리](https://example.org/attention-blog): 어텐션이 무엇인지 처음부터 차근차근
  설명하는 글입니다. 인코더와 디코더 사이에서 어떤 단어를 볼지 정하는 방법, 점수 계산,
  소프트맥스까지 그림으로 정리했습니다.

## Paper

* [Attention Is All You Need](https://arxiv.org/abs/1706.03762)
* [Deep learning book review](https://example.org/dl-review): deep learning
"""


@pytest.fixture
def collection_searcher(tmp_path, fake_build):
    path = tmp_path / "list.md"
    path.write_text(COLLECTION, encoding="utf-8")
    built = fake_build([path])
    searcher = Searcher.open(built.path, FakeEmbedder())
    yield searcher
    searcher.reader.close()


def test_a_korean_term_finds_an_english_only_resource(collection_searcher):
    # No shared word: the glossary carries 전이 학습 to "transfer learning".
    response = collection_searcher.search("전이 학습", k=3, mode="lexical")
    assert response.results[0].url == "https://example.org/transfer"
    assert "전이 학습" in response.results[0].why
    collection_searcher.ranking = collection_searcher.ranking.with_options(bridge=False)
    assert collection_searcher.search("전이 학습", k=3, mode="lexical").results == []


def test_a_type_word_prefers_that_kind_without_becoming_the_topic(collection_searcher):
    response = collection_searcher.search("attention 논문", k=3)
    assert response.results[0].url == "https://arxiv.org/abs/1706.03762"
    assert "the kind asked for: paper" in response.results[0].why
    # The other paper under the "Paper" heading is not about attention: it is not lifted
    # above the attention blog post.
    urls = [hit.url for hit in response.results]
    assert urls.index("https://example.org/attention-blog") < (
        urls.index("https://example.org/dl-review")
        if "https://example.org/dl-review" in urls
        else len(urls)
    )


def test_a_long_note_is_not_punished_for_its_length(collection_searcher):
    response = collection_searcher.search("어텐션 설명", k=2, mode="lexical")
    assert response.results[0].url == "https://example.org/attention-blog"


def test_thin_resources_are_marked_and_show_no_made_up_snippet(collection_searcher):
    docs = {doc["url"]: doc for doc in collection_searcher.docs}
    assert docs["https://deeplearning.example.net/"]["thin"] is True
    assert docs["https://example.org/attention-blog"]["thin"] is False
    assert "paper" in docs["https://arxiv.org/abs/1706.03762"]["kinds"]
    response = collection_searcher.search("deep learning", k=5)
    bare = next(h for h in response.results if h.url == "https://deeplearning.example.net/")
    review = next(h for h in response.results if h.url == "https://example.org/dl-review")
    assert review.rank < bare.rank  # described beats bare for the same words
    for hit in response.results:  # never the profile's synthetic header lines
        assert " · " not in hit.snippet and "(2020.01" not in hit.snippet
    assert bare.snippet == ""


def test_an_english_query_is_bridged_without_loading_kiwi(tmp_path):
    """The glossary's tokens are analysed once and cached: a process answering an English
    question never pays Kiwi's start-up."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "RECALL_MODEL_CACHE": str(tmp_path / "cache")}
    script = (
        "from indexer import morphology, query\n"
        "plan = query.plan_query('transfer learning', morphology.analyse_many(['transfer "
        "learning'])[0], strip_dense=False, bridge=True)\n"
        "print(bool(plan.bridges), morphology._MORPHOLOGY._kiwi is None)\n"
    )
    run = [sys.executable, "-c", script]
    first = subprocess.run(run, env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["True", "False"]  # made the cache, with Kiwi
    assert list((tmp_path / "cache").glob("glossary-tokens-*.json"))
    second = subprocess.run(run, env=env, capture_output=True, text=True, check=True)
    assert second.stdout.split() == ["True", "True"]  # bridged from the cache alone
