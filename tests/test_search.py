"""Retrieval on the sample lists with the real default model: Korean, English and
cross-language queries under each ranker, fusion, filters, odd queries, related resources,
and the pure pieces (fusion arithmetic, query cleaning, duplicate URLs)."""

from __future__ import annotations

import faiss
import numpy as np
import pytest
from conftest import (
    BOOK,
    GAN,
    LECTURE,
    LECTURE_AGAIN,
    LECTURE_MOBILE,
    LECTURES,
    LSTM_ARTICLE,
    LSTM_REPO,
    LSTM_VIDEO,
    METRIC,
    REAL_PASSAGES,
    TOTAL_RECALL,
    TOTAL_RECALL_2,
    TPU,
    addresses,
)
from fakes import FakeEmbedder

from indexer.answers import make_filters
from indexer.build import Builder
from indexer.embed import load_embedder
from indexer.explain import _widest
from indexer.hits import Filters, SearchResponse, clean_query
from indexer.rank import RRF_K, Candidates, Ranking, fuse, fuse_related, related_pool
from indexer.related import as_written
from indexer.resources import duplicate_key, filed_under
from indexer.search import Searcher
from indexer.store import IndexIncompatible, IndexReader

RANKERS = [
    ("hybrid", "zscore"),
    ("hybrid", "rrf"),
    ("hybrid", "convex"),
    ("dense", "rrf"),
    ("lexical", "rrf"),
]
ALL_RANKERS = [f"{mode}-{fusion}" for mode, fusion in RANKERS]
MEANING_RANKERS = ["hybrid-zscore", "hybrid-rrf", "hybrid-convex", "dense-rrf"]

# (query, the resource it must rank first, the rankers that must do it)
RANKING_CASES = [
    # Korean query, Korean notes and title
    ("GAN 판별자 가중치 고정", GAN, ALL_RANKERS),
    ("자연어 처리 책", BOOK, ALL_RANKERS),
    ("강화학습 스터디", "note", ALL_RANKERS),  # a section without a link
    # English query, English title
    ("query expansion for object retrieval", TOTAL_RECALL, ALL_RANKERS),
    ("metric learning with classification loss", METRIC, ALL_RANKERS),
    ("time series forecasting with recurrent networks", LSTM_ARTICLE, MEANING_RANKERS),
    # keywords alone: the repository's title holds the same words ("Network" is "networks")
    ("time series forecasting with recurrent networks", (LSTM_ARTICLE, LSTM_REPO), ["lexical-rrf"]),
    # English query, Korean resource
    ("natural language processing book in Korean", BOOK, ALL_RANKERS),
    ("discriminator weights frozen when training a GAN", GAN, ALL_RANKERS),
    # Korean query, English resource: no shared word, only meaning
    ("자동 질의 확장 객체 검색", TOTAL_RECALL, MEANING_RANKERS),
    ("시계열 예측", LSTM_ARTICLE, ["dense-rrf"]),
]


def top_url(response: SearchResponse) -> str:
    assert response.results, response.message
    first = response.results[0]
    return "note" if first.kind == "note" else first.url


@pytest.mark.parametrize(
    ("query", "expected", "mode", "fusion"),
    [
        pytest.param(query, expected, mode, fusion, id=f"{query}-{mode}-{fusion}")
        for query, expected, rankers in RANKING_CASES
        for mode, fusion in RANKERS
        if f"{mode}-{fusion}" in rankers
    ],
)
@pytest.mark.slow
def test_the_right_resource_ranks_first(real_searcher, query, expected, mode, fusion):
    response = real_searcher.search(query, k=5, mode=mode, fusion=fusion)
    assert top_url(response) in ((expected,) if isinstance(expected, str) else expected)
    assert [hit.rank for hit in response.results] == list(range(1, len(response.results) + 1))
    scores = [hit.score for hit in response.results]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_keywords_cross_languages_only_through_the_glossary_and_word_bridges(
    real_searcher, monkeypatch
):
    # The Korean paraphrase shares no word with the English titles: only the glossary's
    # 질의 확장 / query expansion lets BM25 find the two Total Recall papers, and the words
    # the model translates (자동 / automatic, 객체 / object, 검색 / retrieval) as well.
    query = "자동 질의 확장 객체 검색"
    bridged = real_searcher.search(query, mode="lexical")
    assert {hit.url for hit in bridged.results[:2]} == {TOTAL_RECALL, TOTAL_RECALL_2}
    total_recall = next(hit for hit in bridged.results if hit.url == TOTAL_RECALL)
    assert total_recall.why == "words: 질의 확장, 자동 (automatic), 객체 (object), 검색 (retrieval)"
    assert total_recall.coverage == 1.0  # each word, as asked, in the glossary or translated
    glossary_only = real_searcher.ranking.with_options(word_bridges=False)
    monkeypatch.setattr(real_searcher, "ranking", glossary_only)
    bridged = real_searcher.search(query, mode="lexical")
    assert {hit.url for hit in bridged.results[:2]} == {TOTAL_RECALL, TOTAL_RECALL_2}
    total_recall = next(hit for hit in bridged.results if hit.url == TOTAL_RECALL)
    assert total_recall.coverage < 1.0  # without the translations: the glossary's term only
    # marked: the asked term, and the title's own words it matched through the glossary
    assert bridged.results[0].terms == ["질의 확장", "Query", "Expansion"]
    monkeypatch.setattr(real_searcher, "ranking", glossary_only.with_options(bridge=False))
    lexical = real_searcher.search(query, mode="lexical")
    assert lexical.results == []
    assert lexical.message == "no matching resources"
    dense = real_searcher.search(query, k=5, mode="dense")
    hybrid = real_searcher.search(query, k=5, fusion="rrf")
    assert [h.id for h in hybrid.results] == [h.id for h in dense.results]


@pytest.mark.slow
def test_each_ranker_ranks_every_resource_at_most_once(real_searcher):
    for mode, fusion in RANKERS:
        response = real_searcher.search("딥러닝 강의", k=20, mode=mode, fusion=fusion)
        ids = [hit.id for hit in response.results]
        assert len(ids) == len(set(ids))
    dense = real_searcher.search("딥러닝 강의", k=20, mode="dense")
    # Every resource once, the lecture's three addresses as one page.
    assert addresses(dense.results) == {doc["url"] for doc in real_searcher.docs}
    assert len(dense.results) == len(real_searcher.docs) - 2 == 13


@pytest.mark.slow
def test_a_resource_counts_its_best_passage_and_a_share_of_the_next_two(real_searcher, monkeypatch):
    # The sample list's resources have two passages at most: four rows are given to one.
    docs = real_searcher.reader.passage_docs.copy()
    other, own, many, keyword_only = len(docs) - 1, [0, 1, 2, 3], 0, 1
    docs[own] = many
    first_doc = int(docs[other])  # the last resource: later than `many` by position
    assert first_doc > keyword_only
    monkeypatch.setattr(real_searcher.reader, "passage_docs", docs)
    # The dense ranker's order: another resource's passage first, then four of `many`'s,
    # two of them tied.
    dense = {other: 0.9, own[0]: 0.5, own[1]: 0.7, own[2]: 0.5, own[3]: 0.2}
    keyword = np.zeros(len(real_searcher.docs), dtype=np.float32)
    keyword[[many, keyword_only]] = [2.0, 3.0]
    vector = real_searcher.embedder.encode_queries(["GAN"])[0]
    candidates = real_searcher._candidates(dense, keyword, 3, vector)
    assert candidates.pos[:2].tolist() == [first_doc, many]  # the order they came in
    share = real_searcher.ranking.secondary_weight
    assert candidates.dense[1] == pytest.approx(0.7 + share * (0.5 + 0.5))
    shown = candidates.at(1, 0.0)
    assert shown.rows == [own[1], own[2], own[0], own[3]]  # best first, a tie by later row
    assert (shown.similarity, shown.keyword) == (pytest.approx(0.7), 2.0)
    # A resource only the keyword ranker returned: its resource vector's similarity, and
    # no dense score of its own unless estimated.
    assert candidates.pos.tolist() == [first_doc, many, keyword_only]
    assert np.isnan(candidates.dense[2]) and candidates.keyword[2] == 3.0
    alone = candidates.at(2, 0.0)
    estimate = float(real_searcher.reader.doc_vectors[keyword_only] @ vector)
    assert (alone.dense, alone.similarity, alone.rows) == (None, pytest.approx(estimate), [])


@pytest.mark.slow
def test_query_expansion_keeps_the_right_answer(real_searcher):
    response = real_searcher.search("자연어 처리 책", k=5, expand=True)
    assert top_url(response) == BOOK


@pytest.mark.slow
def test_a_hit_says_why_it_matched(real_searcher):
    hit = real_searcher.search("GAN 판별자 가중치", k=3).results[0]
    assert hit.url == GAN
    assert hit.title == "GAN 모형에서 trainable 매개변수"
    assert hit.contributors == ["김태영"] and hit.dates == ["2019-03-03"]
    assert hit.type == "article" and hit.domain == "tykimos.github.io"
    assert hit.fetch_status == "offline"
    assert "title" in hit.matched and "note" in hit.matched and "profile" in hit.matched
    # Each word once, a compound without its parts beside it (판별, 가중 are matched too).
    assert hit.why.startswith("words: GAN, 판별자, 가중치; ")
    assert "similar meaning in the list entry" in hit.why
    assert real_searcher.search("GAN gan", k=1).results[0].why.startswith("words: GAN; ")
    # The snippet is what people said about it, not the profile's header lines.
    assert hit.snippet.startswith('"여기서 하나 알 수 있는 것은')
    assert "초기 GAN에서 판별자의 가중치가" in hit.snippet  # and the nested note
    assert {"GAN", "판별자", "가중치"} <= set(hit.terms)
    dense_hit = real_searcher.search("discriminator weights", k=1, mode="dense").results[0]
    assert dense_hit.why.startswith("similar meaning") and dense_hit.terms == []


def test_the_why_line_names_each_word_once_and_not_a_part_of_another():
    """GAN beside gan once; 판별 inside 판별자 and 신경망 inside a longer term left out; a
    Latin word only as one of another's words (AI is not a part of BAIR)."""
    words = [
        "GAN",
        "gan",
        "판별",
        "판별자",
        "신경망",
        "적대적 생성 신경망",
        "AI",
        "BAIR",
        "GAN 모형",
    ]
    assert _widest(tuple(words)) == ("판별자", "적대적 생성 신경망", "AI", "BAIR", "GAN 모형")


def test_a_hit_is_filed_under_its_lists_when_there_are_several_then_its_headings():
    doc = {
        "mentions": [
            {"source": "/lists/83_Generative Adversarial Network.md"},
            {"source": "/lists/README.md"},
            {"source": "/lists/83_Generative Adversarial Network.md"},
            {"source": None},  # a resource added from the app
        ],
        "categories": ["논문", "Implementation", "논문", ""],
    }
    assert filed_under(doc, several_lists=True) == [
        "Generative Adversarial Network",
        "README",
        "논문",
        "Implementation",
    ]
    assert filed_under(doc, several_lists=False) == ["논문", "Implementation"]


# --- queries that must not crash --------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("query", ["", "   ", "\n\t ", "\x00\u200b\u202e", None])
@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_empty_queries_answer_with_a_message(real_searcher, query, mode):
    response = real_searcher.search(query, mode=mode)
    assert response.results == []
    assert response.query == ""
    assert response.message == "empty query: type a question"
    assert not response.truncated


@pytest.mark.slow
def test_an_over_long_query_is_cut_and_says_so(real_searcher):
    query = "TPU " * 1500  # 6,000 characters
    response = real_searcher.search(query, k=3)
    assert response.truncated
    assert len(response.query) == 2000
    assert "cut to its first 2000 characters" in response.message
    assert top_url(response) == TPU


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_long_odd_and_mixed_queries_never_crash(real_searcher, mode):
    for query in [
        "가" * 5000,
        "ㅋ" * 3000 + " GAN",
        "🤖" * 2500,
        "SELECT * FROM docs; -- ' \" \\ [](<>)",
        "a" * 2001,
        "LSTM으로 시계열 예측\u0000하기\u200b",
    ]:
        response = real_searcher.search(query, k=5, mode=mode)
        assert len(response.query) <= 2000
        assert response.truncated == (len(" ".join(query.split())) > 2000)
        assert len(response.results) <= 5


@pytest.mark.slow
def test_the_query_limit_comes_from_the_settings(real_index):
    from dataclasses import replace

    settings = replace(real_index.settings, max_query_chars=10)
    searcher = Searcher(IndexReader(real_index.path), load_embedder("use-multilingual"), settings)
    response = searcher.search("query expansion for object retrieval")
    assert response.truncated and response.query == "query expa"
    assert "first 10 characters" in response.message
    searcher.reader.close()


@pytest.mark.slow
def test_bad_mode_or_fusion_is_a_value_error(real_searcher):
    with pytest.raises(ValueError, match="unknown mode"):
        real_searcher.search("x", mode="semantic")
    with pytest.raises(ValueError, match="unknown fusion"):
        real_searcher.search("x", fusion="max")


@pytest.mark.slow
def test_k_zero_returns_nothing(real_searcher):
    assert real_searcher.search("GAN", k=0).results == []


# --- filters ------------------------------------------------------------------------------


@pytest.mark.slow
def test_contributor_filter_reaches_resources_ranked_low(real_searcher):
    # LSTM resources are far from a GAN query; the filter still fills k from them.
    response = real_searcher.search("GAN 판별자", k=3, filters=Filters(contributors=("이상훈",)))
    assert {hit.url for hit in response.results} == {LSTM_ARTICLE, LSTM_REPO, LSTM_VIDEO}
    assert all(hit.contributors == ["이상훈"] for hit in response.results)


class _OppositeQueries(FakeEmbedder):
    """Every query vector pointing away from what it would match: cosines at or below 0."""

    def encode_queries(self, texts):
        return -super().encode_queries(texts)


@pytest.mark.parametrize("embedder", [FakeEmbedder, _OppositeQueries])
def test_a_hit_no_closer_than_unrelated_is_not_called_similar(fake_build, embedder):
    """Cosine at or below 0 is no similarity: such a hit says it is the best available."""
    built = fake_build()
    searcher = Searcher.open(built.path, embedder(), built.settings)
    hits = searcher.search("LSTM zq", k=20, mode="dense").results
    assert len(hits) == 11
    for hit in hits:
        assert ("similar meaning" in hit.why) == (hit.similarity > 0), hit.why
        assert hit.why == "best available match" or hit.similarity > 0


@pytest.mark.parametrize(
    ("typed", "recorded"),
    [
        ({"domains": ["www.YouTube.com"]}, {"domains": ("youtube.com",)}),
        (
            {"domains": ["https://m.youtube.com/watch?v=x", " arxiv.org/ ", ""]},
            {"domains": ("youtube.com", "arxiv.org")},
        ),
        (
            {"contributors": [" 이상훈님 ", "Ryan Shin", "아저씨", ""]},
            {"contributors": ("이상훈님", "이상훈", "Ryan Shin", "아저씨", "아저")},
        ),
        ({"contributors": ["님"], "since": " "}, {"contributors": ("님",)}),
    ],
)
def test_filters_read_names_and_hosts_as_the_index_records_them(typed, recorded):
    assert make_filters(**typed) == Filters(**recorded)


def test_a_filter_that_names_no_host_is_an_error():
    with pytest.raises(ValueError, match="not a host name"):
        make_filters(domains=["[youtube.com"])


def test_a_contributor_filter_ignores_case(real_searcher):
    filters = make_filters(contributors=["ryan shin"])
    response = real_searcher.search("자연어 처리 책", k=3, filters=filters)
    assert [hit.contributors for hit in response.results] == [["Ryan Shin"]]


@pytest.mark.slow
def test_type_and_domain_filters(real_searcher):
    videos = real_searcher.search("딥러닝", k=10, filters=Filters(types=("video",)))
    assert addresses(videos.results) == LECTURES | {LSTM_VIDEO} and len(videos.results) == 2
    arxiv = Filters(domains=("arxiv.org",))
    papers = real_searcher.search("metric learning with classification loss", k=10, filters=arxiv)
    assert len(papers.results) == 3 and all(h.domain == "arxiv.org" for h in papers.results)
    assert top_url(papers) == METRIC
    # A parent domain matches its subdomains, never a lookalike.
    github = real_searcher.search("GAN", k=10, filters=Filters(domains=("github.io",)))
    assert [hit.url for hit in github.results] == [GAN]
    notes = real_searcher.search("스터디", k=10, filters=Filters(types=("note",)))
    assert [hit.kind for hit in notes.results] == ["note"]


@pytest.mark.slow
def test_date_filters_are_inclusive(real_searcher):
    day = real_searcher.search(
        "논문", k=20, filters=Filters(since="2019-02-22", until="2019-02-22")
    )
    assert len(day.results) == 5 and all(h.dates == ["2019-02-22"] for h in day.results)
    april = real_searcher.search("강의", k=20, filters=Filters(since="2019-04-01"))
    # The lecture's three addresses are one page, beside the study group's note.
    assert len(april.results) == 2 and addresses(april.results) == LECTURES | {""}
    assert "스터디 공지 (2019.04.05)" in {hit.title for hit in april.results}
    early = real_searcher.search("강의", k=20, filters=Filters(until="2019-02-25"))
    assert all(hit.dates[0] <= "2019-02-25" for hit in early.results) and early.results


@pytest.mark.slow
def test_filters_combine_and_an_impossible_one_says_so(real_searcher):
    both = Filters(contributors=("김태영",), types=("video",))
    response = real_searcher.search("강의", k=10, filters=both)
    [lecture] = response.results  # both addresses it posted are one page
    assert lecture.url in {LECTURE_AGAIN, LECTURE_MOBILE} and addresses([lecture]) == LECTURES
    none = real_searcher.search("강의", filters=Filters(contributors=("아무도",)))
    assert none.results == []
    assert none.message == "no matching resources for these filters"
    assert none.no_close_match is True  # a bot reads "nothing answers" from the flag alone
    assert Filters().active() is False and both.active() is True


# --- related ------------------------------------------------------------------------------


@pytest.mark.slow
def test_related_puts_resources_posted_together_first(real_searcher):
    hits = real_searcher.related(LSTM_ARTICLE, k=3)
    assert {hit.url for hit in hits[:2]} == {LSTM_REPO, LSTM_VIDEO}
    assert all(hit.why.startswith("posted together by 이상훈") for hit in hits[:2])
    assert all(hit.matched == ["related"] for hit in hits)


@pytest.mark.slow
@pytest.mark.parametrize("ref", [LECTURE, LECTURE_AGAIN, LECTURE_MOBILE])
def test_related_never_returns_the_resource_or_another_url_of_it(real_searcher, ref):
    everything = real_searcher.related(ref, k=100)
    urls = [hit.url for hit in everything]
    assert not LECTURES & set(urls)
    assert len(urls) == len(set(urls)) == 15 - len(LECTURES)


@pytest.mark.slow
@pytest.mark.parametrize("ref", [LSTM_ARTICLE, TPU, BOOK])
def test_related_lists_a_page_posted_under_several_addresses_once(real_searcher, ref):
    urls = [hit.url for hit in real_searcher.related(ref, k=100)]
    assert len(LECTURES & set(urls)) == 1
    assert len({duplicate_key(url) for url in urls}) == len(urls) == 15 - 1 - 2


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_a_page_posted_under_several_addresses_is_one_hit(real_searcher, mode):
    response = real_searcher.search("MIT 딥러닝 강의 영상", k=10, mode=mode)
    [lecture] = [hit for hit in response.results if hit.url in LECTURES]
    # The best-ranked address stands for the page and names the page's other addresses,
    # whether or not they matched too, and however many hits were asked for.
    assert sorted([lecture.url, *lecture.also_at]) == sorted(LECTURES)
    one = real_searcher.search("MIT 딥러닝 강의 영상", k=1, mode=mode).results[0]
    assert one.also_at == (lecture.also_at if one.url == lecture.url else [])
    assert all(hit.also_at == [] for hit in response.results if hit is not lecture)
    pages = [duplicate_key(hit.url) for hit in response.results]
    assert len(pages) == len(set(pages))
    # Ranks stay 1..n with the two other addresses folded away.
    assert [hit.rank for hit in response.results] == list(range(1, len(response.results) + 1))


def test_an_address_of_the_same_page_that_the_index_lacks_is_passed_over(fake_build, engine_corpus):
    # A part of a collection (the latency benchmark's sample of 1,000 passages) keeps what
    # its records say of pages posted under addresses it left out.
    built = fake_build(sources=(engine_corpus,))
    searcher = Searcher.open(built.path, FakeEmbedder(), built.settings)
    lecture = searcher.resolve(LECTURE)
    searcher.docs[lecture]["same_page"] = [
        *searcher.docs[lecture]["same_page"],
        "https://gone.example/",
    ]
    hits = searcher.search("MIT 딥러닝 강의 영상", k=10).results
    assert len([hit for hit in hits if hit.url in LECTURES]) == 1  # still one hit
    others = {searcher.resolve(url) for url in LECTURES - {LECTURE}}
    assert sorted(searcher.same_page(lecture)) == sorted(others)
    assert searcher.related(LECTURE, k=3)
    searcher.reader.close()


@pytest.mark.slow
def test_a_page_fills_one_slot_and_the_ranking_still_gives_k_hits(real_searcher):
    top = real_searcher.search("MIT 딥러닝 강의 영상", k=3, mode="dense")
    assert len(top.results) == 3  # looked deeper for the slots its other addresses left
    assert len({duplicate_key(hit.url) for hit in top.results}) == 3


@pytest.mark.slow
def test_related_resolves_any_form_of_a_url_and_ids(real_searcher):
    pos = real_searcher.resolve(LSTM_ARTICLE)
    doc = real_searcher.docs[pos]
    assert real_searcher.resolve(doc["id"]) == pos
    assert real_searcher.resolve(LSTM_ARTICLE + "?fbclid=IwAR3B1wxAJNMMewrVqMI8zkg31D2h") == pos
    assert real_searcher.resolve(LSTM_ARTICLE.replace("https://www.", "  HTTPS://WWW.")) == pos
    assert real_searcher.resolve("https://youtube.com/watch?v=njKP3FqW3Sk") is not None
    assert real_searcher.resolve("https://ex.com/unknown") is None
    assert real_searcher.resolve("") is None
    related_by_id = [hit.id for hit in real_searcher.related(doc["id"], k=5)]
    assert related_by_id == [hit.id for hit in real_searcher.related(LSTM_ARTICLE, k=5)]
    with pytest.raises(KeyError, match="no resource"):
        real_searcher.related("https://ex.com/unknown")


@pytest.mark.slow
def test_related_says_which_topic_words_it_shares_as_the_title_writes_them(real_searcher):
    hits = real_searcher.related(LSTM_ARTICLE, k=5)
    topics = [hit.why.split("similar topic: ")[1] for hit in hits if "similar topic" in hit.why]
    assert topics and any("LSTM" in topic for topic in topics)  # not the token "lstm"


def test_related_fuses_similarity_and_shared_words_on_their_own_scales():
    """Vectors of one heading's resources lie close together (0.60-0.65 here); a resource
    from another list that shares the title's rare words is much less similar (0.30), but
    its keyword score stands far above the rest: on z-scores it ranks first, where adding
    raw scores (0.30 + 0.3 of a 0..1 keyword score) put a sibling first."""
    rng = np.random.default_rng(0)
    similarity = np.concatenate([[1.0, 0.65, 0.62, 0.60, 0.30], rng.uniform(0.0, 0.3, 300)])
    keyword = np.concatenate([[0.0, 0.4, 0.3, 0.5, 6.0], rng.uniform(0.0, 0.5, 300)])
    pool = related_pool(similarity, keyword)
    assert {0, 4} <= set(pool.tolist()) and len(pool) < len(similarity)  # the best of each
    fused = fuse_related(similarity, keyword, pool, Ranking())
    assert int(np.argmax(fused[1:])) + 1 == 4  # the resource itself (0) is never shown
    raw = similarity + 0.3 * keyword / keyword.max()
    assert int(np.argmax(raw[1:])) + 1 == 1
    # The scales are the pool's: z-scores over it, half each.
    z = [(v - v[pool].mean()) / v[pool].std() for v in (similarity, keyword)]
    np.testing.assert_allclose(fused, 0.5 * z[0] + 0.5 * z[1], rtol=1e-6)


READING_GROUP = """# 논문 읽기

## 논문 읽기 모임 (2019.01.05)

* [PR001 Generative Adversarial Nets](https://ex.com/pr001)
* [PR002 Deformable Convolutional Networks](https://ex.com/pr002)
* [PR003 Attention Is All You Need](https://ex.com/pr003)
* [PR004 Image Super-Resolution](https://ex.com/pr004)
"""
IMPLEMENTATIONS = """# 구현

## 김구현 (2019.02.01)

* [Attention Is All You Need in PyTorch](https://ex.com/attention-pytorch)
"""


def test_related_compares_titles_not_the_heading_siblings_share(tmp_path, fake_build):
    """Every resource under one heading shares its words; the one that names the same
    paper, in another list, is the related one, and the heading's words explain nothing."""
    (tmp_path / "group.md").write_text(READING_GROUP, encoding="utf-8")
    (tmp_path / "code.md").write_text(IMPLEMENTATIONS, encoding="utf-8")
    built = fake_build([tmp_path / "group.md", tmp_path / "code.md"])
    searcher = Searcher.open(built.path, FakeEmbedder(), built.settings)
    hits = searcher.related("https://ex.com/pr003", k=3)
    assert hits[0].url == "https://ex.com/attention-pytorch"
    assert "similar topic: Attention" in hits[0].why
    assert not any("읽기" in hit.why or "모임" in hit.why for hit in hits)


def test_index_tokens_are_shown_as_written_in_reading_order():
    text = "LSTM으로 시계열 예측 (Time Series)"
    assert as_written(text, ["시계열", "lstm", "series", "예측하기"]) == [
        "LSTM",
        "시계열",
        "Series",
        "예측하기",  # not spelled out in the text: the token itself
    ]
    assert as_written("İstanbul lstm", ["lstm"]) == ["lstm"]  # lower() changes its length
    # a Latin stem is shown as the word it begins, not cut short
    text = "Deep Learning Library Tutorials으로, Discourse"
    assert as_written(text, ["tutori", "librari", "learn", "cours"]) == [
        "Learning",
        "Library",  # a stem that is not a prefix of its word
        "Tutorials",
        "cours",  # not a word of the text (inside "Discourse" is not)
    ]
    assert as_written("Neural Network nets", ["net", "network"]) == ["Network", "nets"]


@pytest.mark.slow
def test_other_forms_of_an_english_word_match_by_their_stem(real_searcher):
    hits = real_searcher.search("predicting time series with networks", mode="lexical").results
    assert hits[0].url in {LSTM_ARTICLE, LSTM_REPO, LSTM_VIDEO}
    # the titles write "Prediction" and "Network(s)": both are marked in the hit
    assert hits[0].why.startswith("words: predicting, time, series, networks")
    assert "Prediction" in hits[0].terms and {"Network", "Networks"} & set(hits[0].terms)
    assert hits[0].terms[:4] == ["predicting", "time", "series", "networks"]  # asked first
    # an acronym's plural finds the acronym: the lists write "LSTM"
    hits = real_searcher.search("LSTMs", mode="lexical").results
    assert hits and {hit.url for hit in hits} <= {LSTM_ARTICLE, LSTM_REPO, LSTM_VIDEO}
    assert "LSTM" in hits[0].terms


@pytest.mark.slow
def test_related_of_a_note(real_searcher):
    note = next(doc for doc in real_searcher.docs if doc["kind"] == "note")
    hits = real_searcher.related(note["id"], k=3)
    assert len(hits) == 3 and note["id"] not in {hit.id for hit in hits}


# --- browsing -----------------------------------------------------------------------------


@pytest.mark.slow
def test_record_newest_and_facets(real_searcher):
    record = real_searcher.record(GAN)
    assert record["title"] == "GAN 모형에서 trainable 매개변수" and record["page_text"] == ""
    assert real_searcher.record("https://ex.com/unknown") is None
    newest = real_searcher.newest(3)
    assert [doc["dates"][-1] for doc in newest] == ["2019-04-05", "2019-04-03", "2019-04-03"]
    facets = real_searcher.facets()
    assert facets["contributors"]["이명규"] == 5
    assert next(iter(facets["contributors"])) == "이명규"
    assert facets["types"]["video"] == 4 and facets["types"]["note"] == 1
    assert (facets["first_date"], facets["last_date"]) == ("2019-02-22", "2019-04-05")


# --- the ANN path -------------------------------------------------------------------------


@pytest.mark.slow
def test_an_ivf_index_still_finds_the_right_resources(real_index, clone_index):
    from dataclasses import replace

    # The same lists rebuilt with a tiny threshold: every vector is reused, the index is
    # rebuilt as an inverted file (IVF).
    settings = replace(real_index.settings, index_dir=clone_index(real_index.path), ann_threshold=5)
    report = Builder(settings).build(real_index.sources, offline=True)
    assert (report.dense_index, report.unchanged) == ("ivf", False)
    assert (report.embedded, report.reused) == (0, REAL_PASSAGES)
    searcher = Searcher.open(settings.index_dir, settings=settings)
    assert isinstance(searcher.reader.dense, faiss.IndexIVFFlat)
    # Only the dense ranker reads the IVF lists.
    for query, expected, rankers in RANKING_CASES:
        if "dense-rrf" in rankers:
            assert top_url(searcher.search(query, k=5, mode="dense")) == expected, query
    assert top_url(searcher.search("자동 질의 확장 객체 검색", k=5)) == TOTAL_RECALL
    assert (
        top_url(searcher.search("강의", k=3, filters=Filters(contributors=("박해선",)))) == LECTURE
    )
    assert LECTURES.isdisjoint(hit.url for hit in searcher.related(LECTURE, k=20))
    searcher.reader.close()


# --- models -------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_index_of_another_model_says_to_rebuild(monkeypatch, fake_build, real_index):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    fake = fake_build()
    with pytest.raises(IndexIncompatible, match=r"built with model 'fake'.*recall build --full"):
        Searcher(IndexReader(fake.path), load_embedder("use-multilingual"))
    with pytest.raises(IndexIncompatible, match=r"'use-multilingual', not 'fake'.*rebuild"):
        Searcher(IndexReader(real_index.path), FakeEmbedder())
    # Opened by path, the model is loaded by its name, and one that cannot be says so.
    with pytest.raises(IndexIncompatible, match=r"model 'fake', which cannot be loaded.*--full"):
        Searcher.open(fake.path)


@pytest.mark.slow
def test_confidence_tells_answered_from_unanswerable(real_searcher):
    assert real_searcher.calibration is not None  # fitted for the bundled model
    answered = real_searcher.search("LSTM 시계열 예측", k=5)
    assert not answered.no_close_match
    assert answered.results[0].url == LSTM_ARTICLE and not answered.results[0].weak
    assert 0 < answered.results[0].confidence <= 1
    unanswerable = real_searcher.search("김치찌개 맛있게 끓이는 법", k=5)
    assert unanswerable.results and all(hit.weak for hit in unanswerable.results)
    assert unanswerable.no_close_match
    data = unanswerable.to_dict()
    assert data["no_close_match"] is True and data["results"][0]["weak"] is True


@pytest.mark.slow
def test_a_glossary_term_no_resource_holds_is_named_and_lowers_confidence(real_searcher):
    # The sample list writes 자연어 처리 only in Korean: the English term is held through it.
    held = real_searcher.search("natural language processing book", k=5)
    assert held.absent_terms == [] and held.results[0].url == BOOK
    absent = real_searcher.search("NeRF 논문 설명", k=5)  # neural radiance fields
    assert absent.absent_terms == ["NeRF"] and absent.to_dict()["absent_terms"] == ["NeRF"]
    assert absent.no_close_match
    # Its weight, times the share of the glossary the collection holds, is what lowers the
    # confidence of the same evidence.
    hit, calibration = absent.results[0], real_searcher.calibration
    assert calibration.absent < 0
    assert real_searcher.absence(absent.absent_terms) == real_searcher.glossary_held
    assert real_searcher.absence(held.absent_terms) == 0.0
    evidence = (hit.similarity or 0.0, hit.coverage)
    weighted = calibration.probability(*evidence, real_searcher.glossary_held)
    assert hit.confidence == pytest.approx(weighted, abs=1e-3)  # from the rounded evidence
    assert hit.confidence < round(calibration.probability(*evidence, 0.0), 4)


def test_the_glossary_held_is_the_share_of_its_entries_some_resource_holds():
    from indexer.lexical import FieldIndex
    from indexer.query import glossary
    from indexer.rank import glossary_held

    entries = len(glossary())
    nothing = FieldIndex.from_tokens({"title": [["kimchi"], ["stew"]]})
    assert glossary_held(nothing) == 0.0
    # lstm and overfitting (its stem), one entry each; "neural" and "network" apart
    phrase = [("neural", "network")]
    apart = FieldIndex.from_tokens(
        {"title": [["lstm", "overfit"], ["neural", "a", "b", "c", "d", "network"]]}, phrase
    )
    assert glossary_held(apart) == pytest.approx(2 / entries)
    together = FieldIndex.from_tokens(
        {"title": [["lstm", "overfit"], ["neural", "network"]]}, phrase
    )
    assert glossary_held(together) == pytest.approx(3 / entries)  # neural network too


# --- pure pieces --------------------------------------------------------------------------


def _candidates(dense, keyword, coverage=None):
    n = len(dense)
    return Candidates(
        pos=np.arange(n),
        dense=np.array(dense, dtype=float),
        keyword=np.array(keyword, dtype=float),
        similarity=np.array(dense, dtype=float),
        coverage=np.array(coverage or [0.0] * n, dtype=float),
        passage_rows=np.zeros(0, dtype=np.int64),
        spans=np.zeros((n, 2), dtype=np.int64),
    )


NO_THIN = np.zeros(4, np.float32)


def test_rrf_fusion_by_hand():
    candidates = _candidates([0.9, 0.5, 0.1], [0.0, 3.0, 1.0])
    first, second, third = fuse(candidates, Ranking(fusion="rrf"), "hybrid", None, NO_THIN)
    assert first == pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 3))
    assert second == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))
    assert third == pytest.approx(1 / (RRF_K + 3) + 1 / (RRF_K + 2))


def test_convex_fusion_by_hand():
    ranking = Ranking(fusion="convex", dense_weight=0.8, bm25_half=20.0)
    candidates = _candidates([0.9, 0.5, -0.2], [0.0, 20.0, 60.0])
    scores = fuse(candidates, ranking, "hybrid", None, NO_THIN)
    assert scores[0] == pytest.approx(0.8 * 0.9)
    # A BM25 score of bm25_half counts as half a keyword match, three times that as 3/4;
    # a negative similarity adds nothing.
    assert scores[1] == pytest.approx(0.8 * 0.5 + 0.2 * 0.5)
    assert scores[2] == pytest.approx(0.2 * 0.75)


def test_zscore_fusion_is_scale_free():
    """Scaling one ranker's raw scores (another model, a bigger collection) changes
    nothing: each ranker is calibrated per query before the two are mixed."""
    ranking = Ranking(coverage_weight=0.0, intent_boost=0.0, thin_discount=0.0)
    one = fuse(_candidates([0.9, 0.5, 0.4], [1.0, 8.0, 0.0]), ranking, "hybrid", None, NO_THIN)
    scaled = _candidates([0.09, 0.05, 0.04], [100.0, 800.0, 0.0])
    assert one == pytest.approx(fuse(scaled, ranking, "hybrid", None, NO_THIN))
    assert max(one) == pytest.approx(1.0)  # rescaled to 0..1


def test_type_preference_and_thin_discount_scale_relevance():
    ranking = Ranking(coverage_weight=0.0, intent_boost=0.5, thin_discount=0.5)
    candidates = _candidates([0.8, 0.8, 0.8, 0.1], [1.0, 1.0, 1.0, 0.0])
    preferred = np.array([1, 0, 0, 1], np.float32)  # the least relevant one is of the kind
    thin = np.array([0, 0, 1, 0], np.float32)
    scores = fuse(candidates, ranking, "hybrid", preferred, thin)
    assert scores[0] == pytest.approx(1.5 * scores[1])
    assert scores[2] == pytest.approx(0.5 * scores[1])
    assert scores[3] == 0.0  # a preferred kind does not lift an irrelevant resource


def test_coverage_breaks_ties_between_equal_rankers():
    candidates = _candidates([0.5, 0.5], [2.0, 2.0], [1.0, 0.5])
    scores = fuse(candidates, Ranking(), "hybrid", None, NO_THIN)
    assert scores[0] > scores[1]


def test_holding_every_word_of_the_query_counts_in_itself():
    """Coverage as a z-score only says how a candidate stands against the others: here
    holding all the query's words, where four others hold half, loses to a slightly more
    similar candidate holding half. Counted as its share as well, the whole match wins."""
    dense = [0.30, 0.44, 0.35, 0.20, 0.15, 0.10]
    keyword = [2.0, 2.0, 1.0, 1.0, 0.5, 0.0]
    coverage = [1.0, 0.5, 0.5, 0.5, 0.5, 0.0]

    def first(ranking: Ranking) -> int:
        candidates = _candidates(dense, keyword, coverage)
        return int(np.argmax(fuse(candidates, ranking, "hybrid", None, np.zeros(6, np.float32))))

    assert first(Ranking(coverage_share_weight=0.0)) == 1
    assert first(Ranking()) == 0


PAPERS = """# Papers

## 이논문 (2019.03.01)

* [On the Origin of Deep Learning](https://ex.com/origin)
* [Failures of Deep Learning](https://ex.com/failures)
* [A Review on Deep Learning](https://ex.com/review)
* [Deep Learning for Ontology Reasoning](https://ex.com/ontology)
* [Attention-based Ensemble for Deep Metric Learning](https://ex.com/metric)
"""


def test_coverage_counts_a_rare_word_more_than_common_ones(tmp_path, fake_build):
    """In a collection where every title says "deep learning", holding those two words
    of "deep metric learning" is far less than two thirds of the query."""
    (tmp_path / "papers.md").write_text(PAPERS, encoding="utf-8")
    built = fake_build([tmp_path / "papers.md"])
    searcher = Searcher.open(built.path, FakeEmbedder(), built.settings)

    def coverage(ranking: Ranking) -> dict[str, float]:
        searcher.ranking = ranking
        return {hit.url: hit.coverage for hit in searcher.search("deep metric learning").results}

    by_rarity = coverage(Ranking())
    assert by_rarity["https://ex.com/metric"] == 1.0
    assert by_rarity["https://ex.com/origin"] < 0.2
    assert searcher.search("deep metric learning").results[0].url == "https://ex.com/metric"
    by_count = coverage(Ranking(coverage_idf=False))
    assert by_count["https://ex.com/origin"] == pytest.approx(2 / 3, abs=1e-4)


ALGEBRA = """# 자료

## 김작성 (2019.03.01)

* [Linear algebra cheat sheet for deep learning](https://ex.com/algebra)
* [선형 회귀 정리](https://ex.com/regression): 회귀 모델 설명
"""


@pytest.mark.parametrize("query", ["선형대수", "선형 대수"])
def test_a_korean_term_counts_through_the_glossary_written_with_or_without_spaces(
    tmp_path, fake_build, query
):
    """The glossary writes 선형 대수|선형대수 for linear algebra: either way the question
    asks, the English resource holds the whole question."""
    (tmp_path / "list.md").write_text(ALGEBRA, encoding="utf-8")
    built = fake_build([tmp_path / "list.md"])
    searcher = Searcher.open(built.path, FakeEmbedder(), built.settings)
    hits = {hit.url: hit for hit in searcher.search(query).results}
    assert hits["https://ex.com/algebra"].coverage == 1.0
    assert searcher.search(query).results[0].url == "https://ex.com/algebra"


METRICS = """# 자료

## 김작성 (2019.03.01)

* [메트릭 학습 정리](https://ex.com/metric-learning): 임베딩 사이의 거리를 배우는 방법
* [불확실성 논문 리뷰](https://ex.com/uncertainty): 이미지넷의 정확도 같은 메트릭이 모든
  분야를 대변하지는 못합니다. 모델이 데이터를 학습할 때 생기는 불확실성을 다룹니다.
"""


def test_a_glossary_term_of_several_words_counts_only_where_they_stand_together(
    tmp_path, fake_build
):
    """A review that says 메트릭 (an evaluation metric) in one sentence and 학습 in the
    next holds no "metric learning" (메트릭 학습 in Korean)."""
    (tmp_path / "list.md").write_text(METRICS, encoding="utf-8")
    built = fake_build([tmp_path / "list.md"])
    searcher = Searcher.open(built.path, FakeEmbedder(), built.settings)
    hits = searcher.search("metric learning", mode="lexical").results
    assert [hit.url for hit in hits] == ["https://ex.com/metric-learning"]
    assert "metric learning" in hits[0].why


CHAPTERS = """# 자료

## 김작성 (2019.03.01)

* [자연어 처리 책, 장별 정리](https://ex.com/book): 1장은 개념, 4장은 분류, 6장은 챗봇.
* [판별자 가중치를 고정하는 이유](https://ex.com/gan): GAN의 trainable 매개변수
* [강화학습 입문](https://ex.com/rl): 보상과 정책
"""


def test_a_one_syllable_korean_word_counts_less_than_a_topic_word(tmp_path, fake_build):
    """In "GAN 한 장 요약" (GAN on one slide), 장 is a counter: a book whose note says 4장,
    5장, 6장 (chapters) must not outrank the one resource about GAN."""
    (tmp_path / "list.md").write_text(CHAPTERS, encoding="utf-8")
    built = fake_build([tmp_path / "list.md"])
    searcher = Searcher.open(built.path, FakeEmbedder(), built.settings)

    def first(ranking: Ranking) -> str:
        searcher.ranking = ranking
        return searcher.search("GAN 한 장 요약", mode="lexical").results[0].url

    assert first(Ranking()) == "https://ex.com/gan"
    assert first(Ranking(one_syllable_weight=1.0)) == "https://ex.com/book"


def test_clean_query():
    assert clean_query("  hello \n\t world ", 100) == ("hello world", False)
    assert clean_query("ｆｕｌｌ　ｗｉｄｔｈ", 100) == ("full width", False)
    assert clean_query("a\x00b\x9bc", 100) == ("a b c", False)  # controls read as spaces
    # invisible format characters go: a copied "GAN" is GAN, not "G A N"
    assert clean_query("\ufeffG\u200bA\u200dN\u202e \u2066LSTM\u2069", 100) == ("GAN LSTM", False)
    assert clean_query("abcdef", 3) == ("abc", True)
    assert clean_query(None, 10) == ("", False)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://youtu.be/abc_-1", "https://www.youtube.com/watch?v=abc_-1"),
        ("https://youtu.be/abc", "https://m.youtube.com/watch?v=abc&t=30s"),
        ("https://youtu.be/abc", "https://www.youtube.com/watch?feature=youtu.be&v=abc"),
        ("https://youtu.be/abc?t=1", "https://youtube.com/shorts/abc"),
        ("http://ex.com/a/", "https://www.ex.com/a"),
        ("https://ex.com/a?utm_source=x", "https://ex.com/a"),
    ],
)
def test_duplicate_keys_match_forms_of_one_page(one, other):
    assert duplicate_key(one) == duplicate_key(other) != ""


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://youtu.be/abc", "https://youtu.be/abd"),
        ("https://www.youtube.com/watch?v=abc", "https://www.youtube.com/watch?list=abc"),
        ("https://www.youtube.com/watch?vv=abc", "https://youtu.be/abc"),
        ("https://ex.com/a", "https://ex.com/b"),
        ("https://ex.com/a?id=1", "https://ex.com/a?id=2"),
    ],
)
def test_duplicate_keys_keep_different_pages_apart(one, other):
    assert duplicate_key(one) != duplicate_key(other)
    assert duplicate_key("") == ""


def test_absent_terms_are_the_glossary_terms_no_resource_holds_as_the_query_wrote_them(
    fake_build,
):
    built = fake_build()  # the sample list: 자연어 처리 in Korean only, no neural radiance field
    searcher = Searcher.open(built.path, FakeEmbedder(), built.settings)
    assert searcher.search("NeRF 자연어 처리").absent_terms == ["NeRF"]
    assert searcher.search("natural language processing").absent_terms == []  # held in Korean
    assert searcher.search("연합학습 튜토리얼").absent_terms == ["연합학습"]
    assert searcher.search("LSTM 시계열").absent_terms == []
    # Named even when the glossary does not bridge the query.
    searcher.ranking = Ranking().with_options(bridge=False)
    assert searcher.search("NeRF 논문").absent_terms == ["NeRF"]


@pytest.mark.slow
def test_the_kind_masks_are_made_in_one_pass_and_a_kind_no_resource_is_has_none(real_searcher):
    kinds = {kind for doc in real_searcher.docs for kind in doc.get("kinds", ())}
    assert {"paper", "video"} <= kinds
    for kind in kinds:
        expected = [float(kind in doc.get("kinds", ())) for doc in real_searcher.docs]
        assert real_searcher._kind_mask(kind).tolist() == expected
    assert not real_searcher._kind_mask("dataset-that-nothing-is").any()
    assert set(real_searcher._kind_masks) >= kinds  # all of them, from the first question
