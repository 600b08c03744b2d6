"""Word bridges: a query word's translations among the index's own words, found by the
model (indexer/wordbridge.py), from the build that embeds the words to the hit that names
the translation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import _no_pages
from fakes import FakeEmbedder

from indexer import wordbridge
from indexer.build import Builder
from indexer.config import DEFAULT_MODEL, load_settings
from indexer.rank import Ranking
from indexer.search import Searcher
from indexer.store import (
    MANIFEST,
    WORD_NEAREST,
    WORD_NEAREST_ROWS,
    WORD_VECTORS,
    WORDS,
    IndexCorrupt,
    IndexReader,
)
from indexer.wordbridge import embed_words, script, spellings

WORD_LIST = """# 자료 모음

## 홍길동 (2020.01.01)

* [Neural Machine Translation by Jointly Learning to Align](https://example.org/nmt)
* [Sensor Fusion for Drones](https://example.org/sensor)
* [Image Search at Web Scale](https://example.org/search)

## 김철수 (2020.01.02)

* [강의 링크](https://example.org/lecture): 추천 시스템 입문 강의
"""
SENSOR, LECTURE = "https://example.org/sensor", "https://example.org/lecture"


class Vectors:
    """An embedder whose vector of each text is given (unit vectors along named axes), and
    which records what it was asked to encode."""

    name = "given"

    def __init__(self, axes: dict[str, list[float]]) -> None:
        self.axes = axes
        self.dimension = len(next(iter(axes.values())))
        self.queries: list[str] = []

    def encode_queries(self, texts):
        self.queries.extend(texts)
        return self.encode_passages(texts)

    def encode_passages(self, texts, batch_size=64, show_progress=False):
        vectors = np.array([self.axes[text] for text in texts], dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_only_words_of_two_syllables_or_three_letters_are_bridged():
    assert [script(t) for t in ("보행자", "특징", "feature", "re-id")] == ["ko", "ko", "en", "en"]
    assert [script(t) for t in ("특", "gp", "gpu2", "3d", "케라스keras", "")] == [None] * 6


def test_a_word_is_bridged_to_the_closest_words_of_the_other_script_only():
    axes = {
        "센서": [1, 0, 0],
        "장치": [0.7, 0.7, 0],
        "sensor": [1, 0.05, 0],
        "sensors": [1, 0.1, 0],
        "device": [0.6, 0.8, 0],
        "drone": [0, 0, 1],
        "검색": [0, 0.1, 1],
        "기대": [0, 1, -1],
        "expectation": [0, 1, -0.95],
        "forecast": [0.5, 1, -0.8],
    }
    embedder = Vectors(axes)
    words = ["센서", "장치", "기대", "sensor", "sensors", "device", "drone", "expectation"]
    vectors = embed_words(words, words, 3, embedder.encode_passages)
    asked = ["센서", "검색", "sensor", "forecast"]
    unknown = vectors.unknown(asked)
    encoded = dict(zip(unknown, embedder.encode_queries(unknown), strict=True))
    found = vectors.translations(asked, encoded, min_similarity=0.9)
    # The two closest English words (at most NEAREST), never a Korean one for a Korean
    # word; an English word's translation is Korean; 검색 and forecast, which the index
    # lacks, are embedded (only they). Drone is close to 검색 and closer to it than to any
    # other Korean word; forecast is close to 기대, but expectation is closer still.
    assert found == {"센서": ("sensor", "sensors"), "검색": ("drone",), "sensor": ("센서",)}
    assert float(embedder.encode_passages(["forecast", "기대"]).prod(axis=0).sum()) > 0.9
    assert unknown == ["검색", "forecast"]
    assert vectors.translations(["장치"], {}, 0.99) == {}  # none close enough


def test_each_words_closest_word_of_the_other_language_is_found_block_by_block(monkeypatch):
    rng = np.random.default_rng(7)
    words = [f"{chr(0xAC00 + i)}가" for i in range(37)] + [
        f"word{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(29)
    ]
    assert [script(w) for w in (words[0], words[-1])] == ["ko", "en"]
    given = rng.normal(size=(len(words), 8)).astype(np.float32)
    given /= np.linalg.norm(given, axis=1, keepdims=True)
    monkeypatch.setattr(wordbridge, "_CHUNK", 5)  # several blocks, merged
    vectors = embed_words(words, words, 8, lambda texts: given[[words.index(t) for t in texts]])
    similarity = given[:37] @ given[37:].T  # Korean x Latin
    for row, other in ((3, similarity[3]), (40, similarity[:, 40 - 37])):
        order = np.argsort(-other)
        offset = 37 if row < 37 else 0
        assert vectors.nearest_rows[row].tolist() == (order[:2] + offset).tolist()
        assert np.allclose(vectors.nearest[row], other[order[:2]])


def test_a_query_words_closest_words_are_those_of_a_full_sort_best_first():
    rng = np.random.default_rng(11)
    words = [f"{chr(0xAC00 + i)}가" for i in range(5)] + [f"word{chr(97 + i)}" for i in range(40)]
    given = rng.normal(size=(len(words), 8)).astype(np.float32)
    given /= np.linalg.norm(given, axis=1, keepdims=True)
    vectors = embed_words(words, words, 8, lambda texts: given[[words.index(t) for t in texts]])
    for _ in range(20):
        asked = rng.normal(size=8).astype(np.float32)
        asked /= np.linalg.norm(asked)
        for rows in (slice(5, 45), slice(0, 5), slice(0, 1), slice(0, 0)):
            similarity = given[rows] @ asked
            best = np.argsort(-similarity)[: wordbridge.NEAREST]
            expected = [(rows.start + int(i), pytest.approx(float(similarity[i]))) for i in best]
            assert vectors._closest(asked, rows) == expected
    assert np.array_equal(vectors.vectors, given)  # the words' own vectors are left as they are


def test_a_latin_word_is_embedded_as_the_lists_spell_it_not_as_its_stem():
    texts = ["Image features", "more features", "a feature", "Images", "images"]
    assert spellings(texts, ["featur", "imag", "특징"]) == ["features", "images", "특징"]


def test_a_rebuild_embeds_only_the_words_it_has_not_embedded(tmp_path, monkeypatch):
    monkeypatch.setitem(wordbridge.WORD_SIMILARITY, FakeEmbedder.name, 0.5)
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "a.md").write_text(WORD_LIST, encoding="utf-8")
    settings = load_settings(
        env={}, data_dir=lists, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache",
        model=FakeEmbedder.name,
    )  # fmt: skip
    Builder(settings, FakeEmbedder()).build([lists], fetch=_no_pages)
    with (lists / "a.md").open("a", encoding="utf-8") as file:
        file.write("\n* [Pedestrian Tracking](https://example.org/walk)\n")
    embedder = FakeEmbedder()
    Builder(settings, embedder).build([lists], fetch=_no_pages)
    embedded = {text for batch in embedder.passage_batches for text in batch}
    reader = IndexReader(settings.index_dir)
    assert {"pedestrian", "tracking"} <= set(reader.words.spelled)
    assert embedded & set(reader.words.spelled) == {"pedestrian", "tracking"}
    reader.close()


def test_a_model_without_a_word_threshold_stores_no_words(fake_build):
    built = fake_build()
    reader = IndexReader(built.path)
    assert reader.words is None
    assert WORDS not in reader.manifest["files"]
    reader.close()


@pytest.fixture(scope="module")
def word_index(tmp_path_factory) -> Path:
    """WORD_LIST built offline with the real bundled model."""
    root = tmp_path_factory.mktemp("words")
    (root / "lists").mkdir()
    (root / "lists" / "words.md").write_text(WORD_LIST, encoding="utf-8")
    settings = load_settings(
        env={}, data_dir=root / "lists", index_dir=root / "index", cache_dir=root / "cache",
        model=DEFAULT_MODEL,
    )  # fmt: skip
    Builder(settings).build([root / "lists"], offline=True)
    return settings.index_dir


@pytest.fixture(scope="module")
def word_searcher(word_index):
    searcher = Searcher.open(word_index)
    yield searcher
    searcher.reader.close()


def test_a_korean_word_finds_the_english_title_the_model_translates_it_to(word_searcher):
    response = word_searcher.search("센서", k=3, mode="lexical")
    first = response.results[0]
    assert first.url == SENSOR
    assert "센서 (sensor)" in first.why
    # The coverage the fusion and the confidence count holds the word through its translation.
    assert first.coverage == 1.0
    word_searcher.ranking = Ranking(word_bridges=False)
    try:
        assert word_searcher.search("센서", k=3, mode="lexical").results == []
    finally:
        word_searcher.ranking = Ranking()


def test_an_english_word_the_index_lacks_finds_the_korean_note(word_searcher):
    assert not word_searcher.reader.lexical.knows("recommend")
    response = word_searcher.search("recommendations", k=3, mode="lexical")
    assert [hit.url for hit in response.results] == [LECTURE]
    assert "recommendations (추천)" in response.results[0].why


def test_a_word_the_model_places_where_it_places_no_text_is_no_translation(
    word_searcher, monkeypatch
):
    # 선명 (sharp, vivid) means little to the model alone: it is 0.65 close to its vector of
    # the empty string, where 특징 is 0.27, and "close" to "align" only as two such words are.
    blank = word_searcher.reader.words.blank
    vivid, feature = word_searcher.embedder.encode_queries(["선명", "특징"])
    assert float(vivid @ blank) >= 0.6 > float(feature @ blank)
    assert word_searcher.search("선명", k=3, mode="lexical").results == []
    monkeypatch.delitem(wordbridge.BLANK_LIKENESS, DEFAULT_MODEL)
    unfiltered = word_searcher.search("선명", k=3, mode="lexical").results
    assert [hit.why for hit in unfiltered] == ["words: 선명 (align)"]


def test_the_words_are_stored_with_their_spelling_and_checked(word_index, clone_index):
    reader = IndexReader(word_index)
    words = reader.words
    assert len(words) == len(words.vectors) and words.vectors.shape[1] == reader.dense.d
    assert words.blank.shape == (reader.dense.d,)  # the model's vector of no text
    assert words.spelling(("drone",)) == "drones"  # the title's spelling, not the stem
    assert {WORDS, WORD_VECTORS, WORD_NEAREST, WORD_NEAREST_ROWS} <= set(reader.manifest["files"])
    reader.close()

    damaged = clone_index(word_index, "truncated")
    path = damaged.resolve() / WORD_VECTORS
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IndexCorrupt, match=f"{WORD_VECTORS} is truncated or corrupt"):
        IndexReader(damaged)


def test_words_that_do_not_match_their_vectors_are_refused(word_index, clone_index):
    damaged = clone_index(word_index, "mismatched").resolve()
    table = json.loads((damaged / WORDS).read_text(encoding="utf-8"))
    table["words"].append("extra")
    table["spelled"].append("extra")
    (damaged / WORDS).write_text(json.dumps(table), encoding="utf-8")
    _rechecksum(damaged, WORDS)
    with pytest.raises(IndexCorrupt, match=f"{WORDS} does not match {WORD_VECTORS}"):
        IndexReader(damaged)
    table["words"].pop(), table["spelled"].pop()
    table["blank"] = table["blank"][:-1]  # a vector of another model's size
    (damaged / WORDS).write_text(json.dumps(table), encoding="utf-8")
    _rechecksum(damaged, WORDS)
    with pytest.raises(IndexCorrupt, match=f"{WORDS} does not match {WORD_VECTORS}"):
        IndexReader(damaged)


def test_words_stored_before_the_vector_of_no_text_are_bridged_as_before(word_index, clone_index):
    old = clone_index(word_index, "no-blank").resolve()
    table = json.loads((old / WORDS).read_text(encoding="utf-8"))
    del table["blank"]
    (old / WORDS).write_text(json.dumps(table), encoding="utf-8")
    _rechecksum(old, WORDS)
    searcher = Searcher.open(old)
    assert searcher.reader.words.blank is None
    assert searcher.search("센서", k=3, mode="lexical").results[0].url == SENSOR
    assert [hit.why for hit in searcher.search("선명", k=3, mode="lexical").results] == [
        "words: 선명 (align)"
    ]
    searcher.reader.close()


def test_an_index_built_before_it_stored_words_searches_without_them(word_index, clone_index):
    old = clone_index(word_index, "old").resolve()
    manifest = json.loads((old / MANIFEST).read_text(encoding="utf-8"))
    for name in (WORDS, WORD_VECTORS, WORD_NEAREST, WORD_NEAREST_ROWS):
        del manifest["files"][name]
        os.remove(old / name)
    (old / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    searcher = Searcher.open(old)
    assert searcher.reader.words is None
    assert searcher.search("센서", k=3, mode="lexical").results == []  # no bridge, no error
    assert searcher.search("Sensor Fusion", k=3).results[0].url == SENSOR
    searcher.reader.close()


def _rechecksum(build: Path, name: str) -> None:
    """Record `name`'s new checksum, as a build that wrote it so would have."""
    from indexer.store import _crc32

    manifest = json.loads((build / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"][name] = _crc32(build / name)
    (build / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
