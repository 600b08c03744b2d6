"""The token cache (indexer/tokencache.py): a rebuild analyses only texts it has not seen,
with the same tokens, and a damaged or unusable cache costs time, never a build."""

from __future__ import annotations

import shutil

import numpy as np
from conftest import SAMPLE_LIST

from indexer import tokencache
from indexer.lexical import FIELDS
from indexer.morphology import tokenize_many
from indexer.store import IndexReader
from indexer.tokencache import FILE, TokenCache

TEXTS = [
    "LSTM으로 시계열 예측",
    "Attention is all you need",
    "",
    "자연어처리 책 추천",
    "LSTM으로 시계열 예측",
]


def test_texts_seen_before_are_read_back_as_analysed(tmp_path):
    first = TokenCache(tmp_path)
    assert first.tokenize(TEXTS) == tokenize_many(TEXTS)
    assert (first.analysed, first.hits) == (3, 0)  # distinct non-empty texts
    again = TokenCache(tmp_path)
    assert again.tokenize([*TEXTS, "새로운 메모"]) == tokenize_many([*TEXTS, "새로운 메모"])
    assert (again.analysed, again.hits) == (1, 3)


def test_another_tokenizer_never_reads_these_tokens(tmp_path, monkeypatch):
    TokenCache(tmp_path).tokenize(TEXTS)
    monkeypatch.setattr(tokencache, "TOKENIZER_NAME", "another-tokenizer/1")
    other = TokenCache(tmp_path)
    other.tokenize(TEXTS)
    assert (other.analysed, other.hits) == (3, 0)


def test_a_damaged_cache_is_moved_aside_and_started_again(tmp_path):
    (tmp_path / FILE).write_bytes(b"this is not a database" * 100)
    damaged = TokenCache(tmp_path)
    assert damaged.tokenize(TEXTS) == tokenize_many(TEXTS)
    assert list(tmp_path.glob(f"{FILE}.corrupt-*"))
    TokenCache(tmp_path).tokenize(TEXTS)
    fresh = TokenCache(tmp_path)
    assert fresh.tokenize(TEXTS) == tokenize_many(TEXTS) and fresh.hits == 3


def test_an_unusable_cache_folder_only_costs_the_analysis(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    cache = TokenCache(blocked)
    assert cache.tokenize(TEXTS) == tokenize_many(TEXTS)
    assert cache.hits == 0


def test_a_rebuild_analyses_only_the_new_texts_and_indexes_the_same(fake_build, fake_settings):
    folder = fake_settings().data_dir / "lists"
    folder.mkdir()
    shutil.copy(SAMPLE_LIST, folder / "list.md")
    first = fake_build([folder])
    assert first.report.texts_analysed > 20 and first.report.texts_reused == 0
    with (folder / "list.md").open("a", encoding="utf-8") as out:
        out.write("\n## 새 사람 (2026.12.01)\n* [플래시 어텐션 정리](https://example.org/flash)\n")
    second = fake_build([folder])
    assert second.report.texts_reused == first.report.texts_analysed
    assert 0 < second.report.texts_analysed <= 4  # title, heading, person, URL words
    full = fake_build([folder], settings=fake_settings("full"), full=True)
    assert full.report.texts_reused == 0
    cached, analysed = IndexReader(second.path), IndexReader(full.path)
    for query in (["시계열"], ["플래시", "어텐션"], ["lstm"], ["자연어"]):
        weights = dict.fromkeys(FIELDS, 1.0)
        assert np.array_equal(
            cached.lexical.scores(query, weights), analysed.lexical.scores(query, weights)
        )
    cached.close()
    analysed.close()
