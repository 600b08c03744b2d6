"""The index directory: atomic publication, pinned readers, old builds, and clear errors
for every missing, corrupt or incompatible file. Builds use FakeEmbedder."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3

import faiss
import numpy as np
import pytest
from chaoskit import delete, flip_byte, overwrite, truncate
from conftest import SAMPLE_LIST, SAMPLE_PASSAGES
from fakes import FakeEmbedder

from indexer.build import Builder
from indexer.lexical import top_k
from indexer.morphology import tokenize
from indexer.search import Searcher
from indexer.sources.files import parse_sources
from indexer.store import (
    DENSE,
    DOC_VECTORS,
    FORMAT_VERSION,
    KEEP_BUILDS,
    MANIFEST,
    META,
    PASSAGE_DOCS,
    BuildLocked,
    IndexCorrupt,
    IndexIncompatible,
    IndexMissing,
    IndexProblem,
    IndexReader,
    build_lock,
    builds_dir,
    ivf_lists,
    ivf_probes,
)

FIX = "recall build --full"


def served_build(index_path):
    """The build folder the index symlink points at."""
    return index_path.resolve()


def edited_list(tmp_path, old: str, new: str, name: str = "list.md"):
    """A copy of the sample list with one piece of text replaced."""
    text = SAMPLE_LIST.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


# --- layout and publication ---------------------------------------------------------------


def test_a_build_is_published_as_a_symlink_to_a_finished_folder(fake_build):
    built = fake_build()
    index = built.path
    assert index.is_symlink()
    folder = served_build(index)
    assert folder.parent == builds_dir(index)
    assert folder.name == built.report.build_id
    manifest = json.loads((index / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["build_id"] == built.report.build_id
    assert manifest["model"] == "fake" and manifest["dimension"] == 64
    assert manifest["dense_index"] == "flat"
    assert set(manifest["files"]) == {DENSE, DOC_VECTORS, PASSAGE_DOCS, META}
    assert manifest["counts"] == {
        "resources": 11,
        "notes": 0,
        "docs": 11,
        "passages": SAMPLE_PASSAGES,
    }
    # Nothing half-written is left beside it.
    assert not list(builds_dir(index).glob("tmp-*"))
    assert not list(index.parent.glob(".index.link-*"))


def test_the_reader_returns_what_the_build_wrote(fake_build):
    built = fake_build()
    parsed = parse_sources([SAMPLE_LIST])
    reader = IndexReader(built.path)
    try:
        assert [doc["id"] for doc in reader.docs] == [r.id for r in parsed.resources]
        assert reader.position[parsed.resources[3].id] == 3
        assert reader.dense.ntotal == SAMPLE_PASSAGES and reader.dense.d == 64
        assert reader.doc_vectors.shape == (11, 64)
        np.testing.assert_allclose(np.linalg.norm(reader.doc_vectors, axis=1), 1.0, atol=1e-5)
        rows = reader.doc_passages(7)
        assert len(rows) == 1
        row, kind, text = rows[0]
        assert kind == "profile" and "GAN 모형에서 trainable 매개변수" in text
        assert reader.passage_rows([row]) == {row: (kind, text)}
        assert reader.passage_rows([]) == {}
        # More rows than SQLite binds in one query: asked in parts, each row once.
        many = [*range(SAMPLE_PASSAGES), *range(10_000, 13_000), row]
        stored = {r: (k, t) for d in range(11) for r, k, t in reader.doc_passages(d)}
        assert reader.passage_rows(many) == stored
        assert len(reader.passage_hashes()) == SAMPLE_PASSAGES
        assert reader.vectors([0, 2]).shape == (2, 64)
        assert reader.vectors([]).shape == (0, 64)
        assert reader.page_text(reader.docs[0]["id"]) == ""
        assert reader.size_on_disk() > 0
    finally:
        reader.close()


def test_a_reader_stays_on_its_build_when_a_new_one_is_published(tmp_path, fake_build):
    first = fake_build()
    reader = IndexReader(first.path)
    try:
        changed = edited_list(tmp_path, "Somethings about TPU", "Everything about TPU pods")
        second = fake_build([changed])
        assert second.report.build_id != first.report.build_id
        assert reader.build_id == first.report.build_id
        assert any(doc["title"] == "Somethings about TPU" for doc in reader.docs)
        assert len(top_k(reader.lexical.scores(tokenize("Somethings"), {"title": 1.0}), 5)[0]) == 1
        fresh = IndexReader(first.path)
        assert fresh.build_id == second.report.build_id
        assert any(doc["title"] == "Everything about TPU pods" for doc in fresh.docs)
        fresh.close()
    finally:
        reader.close()


def test_only_the_newest_builds_are_kept(tmp_path, fake_build, fake_settings):
    settings = fake_settings()
    ids = []
    for number in range(KEEP_BUILDS + 2):
        source = edited_list(
            tmp_path, "Somethings about TPU", f"TPU notes {number}", f"{number}.md"
        )
        ids.append(fake_build([source], settings=settings).report.build_id)
        # mtime order decides which builds are kept; make it unambiguous.
        os.utime(builds_dir(settings.index_dir) / ids[-1], (1e9 + number, 1e9 + number))
    kept = sorted(p.name for p in builds_dir(settings.index_dir).iterdir() if p.is_dir())
    assert kept == sorted(ids[-KEEP_BUILDS:])
    assert served_build(settings.index_dir).name == ids[-1]


def test_a_failed_write_leaves_the_served_index_and_no_staging(monkeypatch, tmp_path, fake_build):
    first = fake_build()
    changed = edited_list(tmp_path, "Somethings about TPU", "Everything about TPU pods")

    def broken_meta(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("indexer.store._write_meta", broken_meta)
    with pytest.raises(OSError, match="No space left"):
        fake_build([changed])
    assert IndexReader(first.path).build_id == first.report.build_id
    assert not list(builds_dir(first.path).glob("tmp-*"))
    monkeypatch.undo()
    # The lock was released: the next build runs.
    assert fake_build([changed]).report.build_id != first.report.build_id


def test_staging_folders_of_dead_builds_are_removed_and_live_ones_kept(fake_build, fake_settings):
    settings = fake_settings()
    folder = builds_dir(settings.index_dir)
    folder.mkdir(parents=True)
    dead = folder / "tmp-999999999-20190101T000000-abcdef"
    live = folder / f"tmp-{os.getpid()}-20190101T000000-fedcba"
    for staging in (dead, live):
        staging.mkdir()
        (staging / DENSE).write_bytes(b"half written")
    fake_build(settings=settings)
    assert not dead.exists()
    assert live.exists()


def test_a_second_build_at_once_fails_instead_of_racing(fake_build, fake_settings):
    settings = fake_settings()
    with build_lock(settings.index_dir), pytest.raises(BuildLocked, match="another build"):
        fake_build(settings=settings)
    assert not settings.index_dir.exists()
    fake_build(settings=settings)  # the lock is free again
    assert settings.index_dir.is_symlink()


def test_an_index_folder_from_before_symlinks_is_set_aside(fake_build, fake_settings):
    settings = fake_settings()
    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / "old.txt").write_text("old index", encoding="utf-8")
    fake_build(settings=settings)
    assert settings.index_dir.is_symlink()
    (legacy,) = builds_dir(settings.index_dir).glob("legacy-*")
    assert (legacy / "old.txt").read_text(encoding="utf-8") == "old index"


def test_above_the_ann_threshold_the_dense_index_is_ivf(monkeypatch, fake_build, fake_settings):
    monkeypatch.setattr("indexer.store.IVF_MIN_PROBES", 1)  # 11 passages make 3 lists
    built = fake_build(settings=fake_settings(ann_threshold=5))
    reader = IndexReader(built.path)
    try:
        assert built.report.dense_index == "ivf"
        assert reader.manifest["dense_index"] == "ivf"
        assert isinstance(reader.dense, faiss.IndexIVFFlat)
        assert (reader.dense.nlist, reader.dense.nprobe) == (ivf_lists(11), ivf_probes(3)) == (3, 1)
        # The index keeps a map from rows to vectors, so an incremental build reuses them.
        vectors = reader.vectors(list(range(11)))
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        # One list of three is probed by default; a search as deep as the index probes
        # them all and returns every resource.
        searcher = Searcher(reader, FakeEmbedder())
        hits = searcher.search("anything at all", k=11, mode="dense").results
        assert len({hit.id for hit in hits}) == 11
    finally:
        reader.close()
    flat = fake_build(settings=fake_settings("flat", ann_threshold=SAMPLE_PASSAGES))
    assert flat.report.dense_index == "flat"


# --- missing and broken indexes -----------------------------------------------------------


def test_a_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexMissing, match="build one with `recall build`"):
        IndexReader(tmp_path / "nowhere")


def test_a_dangling_index_link_is_missing(fake_build):
    built = fake_build()
    shutil.rmtree(served_build(built.path))
    with pytest.raises(IndexMissing, match="recall build"):
        IndexReader(built.path)


def test_an_empty_index_folder_is_missing_its_manifest(tmp_path):
    (tmp_path / "index").mkdir()
    with pytest.raises(IndexMissing, match=f"manifest.json missing.*{FIX}"):
        IndexReader(tmp_path / "index")


CORRUPTIONS = [
    (DENSE, truncate),
    (DENSE, flip_byte),
    (DENSE, delete),
    (META, overwrite),
    (META, flip_byte),
    (DOC_VECTORS, truncate),
    (PASSAGE_DOCS, flip_byte),
    ("lexical/title/bm25.data.npy", flip_byte),
    ("lexical/notes/bm25.indices.npy", truncate),
    ("lexical/headings/bm25.vocab.json", overwrite),
    ("lexical/url/bm25.indptr.npy", delete),
    ("lexical/title/lexical.json", overwrite),
    ("lexical/fields.json", delete),
    ("lexical/phrases.rows.npy", flip_byte),
    ("lexical/phrases.json", overwrite),
    (MANIFEST, truncate),
    (MANIFEST, overwrite),
]


@pytest.mark.parametrize(
    ("name", "damage"), CORRUPTIONS, ids=[f"{n}-{d.__name__}" for n, d in CORRUPTIONS]
)
def test_a_corrupt_file_is_named_with_the_fix(fake_build, name, damage):
    built = fake_build()
    damage(served_build(built.path) / name)
    with pytest.raises(IndexProblem) as error:
        IndexReader(built.path)
    message = str(error.value)
    assert os.path.basename(name) in message
    assert FIX in message
    assert isinstance(error.value, IndexCorrupt | IndexMissing)


def test_a_changed_sqlite_row_is_caught_before_it_is_served(fake_build):
    built = fake_build()
    meta = served_build(built.path) / META
    with contextlib.closing(sqlite3.connect(meta)) as db:
        db.execute("UPDATE docs SET data = replace(data, 'TPU', 'GPU')")
        db.commit()
    with pytest.raises(IndexCorrupt, match=f"meta.sqlite is truncated or corrupt.*{FIX}"):
        IndexReader(built.path)


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: [m],
        lambda m: {key: value for key, value in m.items() if key != "format_version"},
        lambda m: {key: value for key, value in m.items() if key != "counts"},
        lambda m: {key: value for key, value in m.items() if key != "files"},
        lambda m: {**m, "counts": {"docs": 11}},
        lambda m: {**m, "files": {**m["files"], DENSE: "00000000"}},
    ],
    ids=["list", "no-format", "no-counts", "no-checksums", "no-passage-count", "bad-checksum"],
)
def test_a_manifest_that_parses_but_is_wrong_is_corrupt(fake_build, edit):
    built = fake_build()
    path = served_build(built.path) / MANIFEST
    path.write_text(json.dumps(edit(json.loads(path.read_text(encoding="utf-8")))))
    with pytest.raises(IndexCorrupt) as error:
        IndexReader(built.path)
    assert FIX in str(error.value)
    assert MANIFEST in str(error.value) or DENSE in str(error.value)


def test_an_index_of_another_format_is_incompatible(fake_build):
    built = fake_build()
    path = served_build(built.path) / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**manifest, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(IndexIncompatible, match=f"has format {FORMAT_VERSION + 1}.*{FIX}"):
        IndexReader(built.path)


@pytest.mark.parametrize("full", [True, False], ids=["full", "incremental"])
@pytest.mark.parametrize("name", [DENSE, META, "lexical/title/bm25.data.npy", MANIFEST])
def test_a_build_after_corruption_recovers(fake_build, fake_settings, name, full):
    settings = fake_settings()
    first = fake_build(settings=settings)
    overwrite(served_build(first.path) / name)
    again = fake_build(settings=settings, full=full)
    # Nothing of the broken build is reused: every passage is embedded again.
    assert again.report.embedded == again.report.passages == SAMPLE_PASSAGES
    reader = IndexReader(settings.index_dir)
    assert reader.build_id == again.report.build_id != first.report.build_id
    assert len(reader.docs) == 11
    reader.close()


def test_builder_reuses_nothing_from_an_index_it_cannot_open(fake_settings, no_pages, caplog):
    settings = fake_settings()
    Builder(settings, FakeEmbedder()).build([SAMPLE_LIST], fetch=no_pages)
    truncate(served_build(settings.index_dir) / DENSE)
    embedder = FakeEmbedder()
    report = Builder(settings, embedder).build([SAMPLE_LIST], fetch=no_pages)
    assert report.reused == 0 and len(embedder.passage_batches[0]) == SAMPLE_PASSAGES
    assert "not reusing the previous index" in caplog.text
