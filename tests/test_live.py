"""The index a long-lived process serves (indexer/live.py): opened once per build, and
refused when its keyword index was analysed by another tokenizer (and `recall stats` says
so)."""

from __future__ import annotations

import json
import re
from unittest import mock

import pytest
from fakes import FakeEmbedder

from indexer.cli import main
from indexer.live import LiveIndex
from indexer.morphology import TOKENIZER_NAME
from indexer.search import Searcher
from indexer.store import MANIFEST, IndexIncompatible


@pytest.fixture
def fake_model():
    """Searcher.open loads FakeEmbedder for "fake" indexes, always the same one."""
    embedder = FakeEmbedder()
    with mock.patch("indexer.search.load_embedder", lambda name: embedder):
        yield embedder


def test_a_build_is_opened_once_and_a_rebuild_on_the_next_call(fake_build, fake_model, tmp_path):
    first = fake_build()
    live = LiveIndex(first.path)
    searcher = live.searcher()
    assert live.searcher() is searcher and live.opened_in is not None
    list_file = tmp_path / "more.md"
    list_file.write_text("# 더\n\n## 홍길동 (2020.01.02)\n\n* [Bayes](https://example.org/b)\n")
    rebuilt = fake_build([*first.sources, list_file])
    assert live.searcher().build_id == rebuilt.report.build_id != searcher.build_id
    assert live.searcher().embedder is searcher.embedder is fake_model
    assert "ready: index" in live.ready()


def test_an_index_analysed_by_another_tokenizer_is_refused(fake_build, fake_model, capsys):
    built = fake_build()
    manifest_path = built.path / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["tokenizer"] = "kiwipiepy-morphemes+latin-words/0"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatible, match=rf"tokenizer .*/0.*{re.escape(TOKENIZER_NAME)}"):
        LiveIndex(built.path).searcher()
    with pytest.raises(IndexIncompatible, match="recall build"):  # a given model too (benches)
        Searcher.open(built.path, fake_model)
    assert main(["search", "LSTM", "--index", str(built.path)]) == 2
    assert "recall build" in capsys.readouterr().err
    # `recall stats` still says what the index holds, and fails, so `make run` rebuilds it.
    assert main(["stats", "--index", str(built.path)]) == 1
    out, err = capsys.readouterr()
    assert "tokenizer kiwipiepy-morphemes+latin-words/0" in out and "recall build" in err
