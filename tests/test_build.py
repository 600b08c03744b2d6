"""The pipeline: what a build writes, incremental rebuilds that embed only what changed,
and builds killed mid-way (SIGKILL) that leave the previous index serving."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from chaoskit import flip_byte
from conftest import GAN, LECTURES, REAL_PASSAGES, SAMPLE_LIST, SAMPLE_PASSAGES, TPU, VIDEO_LIST
from fakes import FakeEmbedder

from indexer.build import PROFILE_WEIGHT, Builder, FetchOutcome, NothingToIndex, fetch_pages
from indexer.lexical import top_k
from indexer.morphology import TOKENIZER_NAME, tokenize
from indexer.pagecache import PageCache, PageRecord
from indexer.query import glossary_phrases
from indexer.search import Searcher
from indexer.sources.files import parse_sources
from indexer.store import BuildLocked, IndexReader, builds_dir

TESTS_DIR = Path(__file__).resolve().parent
GAN_NOTE = "여기서 하나 알 수 있는 것은"


def edited(tmp_path: Path, old: str, new: str, name: str = "list.md") -> Path:
    text = SAMPLE_LIST.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def page_fetch(pages: dict[str, tuple[str, str]]):
    """A fetch step that answers the given URLs with (title, text) pages, others offline."""

    def fetch(resources, settings, **options):
        records = {}
        for resource in resources:
            if resource.url_status != "ok":
                continue
            if resource.url in pages:
                title, text = pages[resource.url]
                records[resource.url] = PageRecord(
                    url=resource.url,
                    status="ok",
                    http_status=200,
                    fetched_at="2020-01-01T00:00:00+00:00",
                    last_ok_at="2020-01-01T00:00:00+00:00",
                    title=title,
                    text=text,
                    description=f"About {title}",
                    content_type="text/html",
                )
            else:
                records[resource.url] = PageRecord(url=resource.url, status="offline")
        return FetchOutcome(records, {"requests": 0})

    return fetch


def paragraph(topic: str, count: int) -> str:
    return " ".join(f"{topic}{i}" for i in range(count)) + "."


def doc_position(reader: IndexReader, url: str) -> int:
    return next(pos for pos, doc in enumerate(reader.docs) if doc["url"] == url)


# --- what a build writes ------------------------------------------------------------------


def test_a_first_build_embeds_every_passage_and_describes_itself(fake_build):
    embedder = FakeEmbedder()
    built = fake_build(embedder=embedder)
    report = built.report
    assert (report.resources, report.notes, report.passages) == (11, 0, SAMPLE_PASSAGES)
    assert (report.embedded, report.reused, report.unchanged) == (SAMPLE_PASSAGES, 0, False)
    assert sum(len(batch) for batch in embedder.passage_batches) == SAMPLE_PASSAGES
    assert report.dense_index == "flat"
    assert set(report.seconds) >= {"parse", "fetch", "chunk", "embed", "lexical", "publish"}
    reader = IndexReader(built.path)
    manifest = reader.manifest
    assert manifest["build_id"] == report.build_id
    assert manifest["model"] == "fake" and manifest["dimension"] == FakeEmbedder.dimension
    assert manifest["tokenizer"] == TOKENIZER_NAME
    (source,) = manifest["sources"]
    assert source["path"] == str(SAMPLE_LIST)
    assert len(source["sha256"]) == 64
    assert json.loads(json.dumps(report.to_dict()))["index"] == str(built.path)
    reader.close()


def test_notes_and_pages_become_passages(tmp_path, fake_build):
    (tmp_path / "videos.md").write_text(VIDEO_LIST, encoding="utf-8")
    (tmp_path / "paper.md").write_text(
        "## 홍길동 (2019.05.01)\n\n* 꼭 읽어 볼 것: [논문](https://ex.com/paper)\n",
        encoding="utf-8",
    )
    text = f"{paragraph('attention', 250)}\n\n{paragraph('heads', 250)}"
    fetch = page_fetch({"https://ex.com/paper": ("Attention Is All You Need", text)})
    built = fake_build([tmp_path / "videos.md", tmp_path / "paper.md"], fetch=fetch)
    assert (built.report.resources, built.report.notes) == (4, 1)
    reader = IndexReader(built.path)
    note = next(doc for doc in reader.docs if doc["kind"] == "note")
    assert note["type"] == "note" and note["dates"] == ["2019-04-05"]
    paper = doc_position(reader, "https://ex.com/paper")
    doc = reader.docs[paper]
    # The list only said "논문": the page's title names the resource.
    assert doc["title"] == "Attention Is All You Need"
    assert doc["fetch_status"] == "ok" and doc["page_chars"] == len(text)
    assert reader.page_text(doc["id"]) == text
    kinds = [kind for _, kind, _ in reader.doc_passages(paper)]
    assert kinds[0] == "profile" and kinds.count("page") >= 2
    profile = reader.doc_passages(paper)[0][2]
    assert "About Attention Is All You Need" in profile and "꼭 읽어 볼 것" in profile
    reader.close()


def test_a_resource_vector_is_the_weighted_mean_of_its_passages(tmp_path, fake_build):
    text = f"{paragraph('tensor', 250)}\n\n{paragraph('core', 250)}"
    built = fake_build(fetch=page_fetch({TPU: ("TPU", text)}))
    reader = IndexReader(built.path)
    pos = doc_position(reader, TPU)
    rows = reader.doc_passages(pos)
    weights = np.array([PROFILE_WEIGHT if kind == "profile" else 1.0 for _, kind, _ in rows])
    mean = (reader.vectors([row for row, _, _ in rows]) * weights[:, None]).sum(axis=0)
    np.testing.assert_allclose(reader.doc_vectors[pos], mean / np.linalg.norm(mean), atol=1e-5)
    reader.close()


def test_the_resource_limit_keeps_the_first_ones_and_says_so(fake_build, fake_settings):
    built = fake_build(settings=fake_settings(max_resources_per_build=3))
    assert built.report.resources == 3
    assert any("RECALL_MAX_RESOURCES" in warning for warning in built.report.warnings)


@pytest.mark.slow
def test_the_real_index_was_built_offline_from_both_lists(real_index):
    report = real_index.report
    assert (report.resources, report.notes, report.passages) == (14, 1, REAL_PASSAGES)
    assert (report.embedded, report.reused) == (REAL_PASSAGES, 0)
    assert report.fetch_counts == {"offline": 14}
    reader = IndexReader(real_index.path)
    assert reader.manifest["model"] == "use-multilingual" and reader.manifest["dimension"] == 512
    # The lecture's three addresses are three resources, each naming the other two.
    same = {doc["url"]: doc["same_page"] for doc in reader.docs if doc["same_page"]}
    assert set(same) == LECTURES and all(set(v) == LECTURES - {u} for u, v in same.items())
    assert all(doc["same_page"] == [] for doc in reader.docs if doc["kind"] == "note")
    reader.close()


# --- incremental rebuilds -----------------------------------------------------------------


def test_a_rebuild_of_the_same_lists_embeds_nothing(fake_build, fake_settings):
    settings = fake_settings()
    first = fake_build(settings=settings)
    embedder = FakeEmbedder()
    again = fake_build(settings=settings, embedder=embedder)
    assert again.report.unchanged
    assert (again.report.embedded, again.report.reused) == (0, SAMPLE_PASSAGES)
    assert again.report.build_id == first.report.build_id
    assert embedder.passage_batches == []
    assert IndexReader(settings.index_dir).build_id == first.report.build_id


def test_a_new_tokenizer_rebuilds_the_keyword_index_and_reuses_the_vectors(
    monkeypatch, fake_build, fake_settings
):
    settings = fake_settings()
    first = fake_build(settings=settings)
    monkeypatch.setattr("indexer.build.TOKENIZER_NAME", "another-tokenizer/9")
    embedder = FakeEmbedder()
    again = fake_build(settings=settings, embedder=embedder)
    assert not again.report.unchanged and again.report.build_id != first.report.build_id
    assert (again.report.embedded, again.report.reused) == (0, SAMPLE_PASSAGES)
    assert IndexReader(settings.index_dir).manifest["tokenizer"] == "another-tokenizer/9"


def test_an_edited_glossary_rebuilds_the_keyword_index_and_reuses_the_vectors(
    monkeypatch, fake_build, fake_settings
):
    """The keyword index records where the glossary's terms of several words stand: a
    glossary with another such term makes it again."""
    settings = fake_settings()
    first = fake_build(settings=settings)
    terms = [*glossary_phrases(), ("total", "recal")]
    monkeypatch.setattr("indexer.build.glossary_phrases", lambda: terms)
    again = fake_build(settings=settings, embedder=FakeEmbedder())
    assert not again.report.unchanged and again.report.build_id != first.report.build_id
    assert (again.report.embedded, again.report.reused) == (0, SAMPLE_PASSAGES)
    lexical = IndexReader(settings.index_dir).lexical
    assert ("total", "recal") in lexical.phrases
    assert len(lexical.phrases["total", "recal"]) == 2  # the two Total Recall papers


def test_a_rebuild_with_nothing_changed_never_loads_the_model(
    monkeypatch, fake_build, fake_settings, no_pages
):
    settings = fake_settings()
    fake_build(settings=settings)

    def no_model(name):
        raise AssertionError("an unchanged rebuild loaded the model")

    monkeypatch.setattr("indexer.build.load_embedder", no_model)
    report = Builder(settings).build([SAMPLE_LIST], fetch=no_pages)
    assert report.unchanged and report.embedded == 0


def _offline_build(fake_build, settings, source):
    return fake_build([source], settings=settings, fetch=fetch_pages, offline=True)


def _counting_parse(monkeypatch) -> list:
    calls = []

    def counted(sources, options=None):
        calls.append(sources)
        return parse_sources(sources, options)

    monkeypatch.setattr("indexer.build.parse_sources", counted)
    return calls


def test_an_offline_rebuild_from_the_same_inputs_only_checks_their_digests(
    monkeypatch, tmp_path, fake_build, fake_settings
):
    settings = fake_settings()
    source = edited(tmp_path, GAN_NOTE, GAN_NOTE)
    with source.open("a", encoding="utf-8") as file:
        file.write("\n- [bad](javascript:alert(1)) 2019-01-02\n")
    first = _offline_build(fake_build, settings, source)
    assert first.report.warnings  # replayed below
    calls = _counting_parse(monkeypatch)
    again = _offline_build(fake_build, settings, source)
    assert calls == []
    report = again.report
    assert report.unchanged and report.build_id == first.report.build_id
    assert (report.resources, report.passages, report.reused, report.embedded) == (
        first.report.resources,
        first.report.passages,
        first.report.passages,
        0,
    )
    assert report.fetch_counts == first.report.fetch_counts
    assert report.warnings == first.report.warnings


@pytest.mark.parametrize("change", ["list edited", "page cached", "full", "index damaged"])
def test_any_changed_input_runs_the_whole_pipeline_again(
    monkeypatch, tmp_path, fake_build, fake_settings, change
):
    settings = fake_settings()
    source = edited(tmp_path, GAN_NOTE, GAN_NOTE)
    first = _offline_build(fake_build, settings, source)
    options = {}
    if change == "list edited":
        source.write_text(source.read_text(encoding="utf-8") + "\n추가 메모\n", encoding="utf-8")
    elif change == "page cached":
        with PageCache(settings.cache_dir) as cache:
            cache.put(PageRecord(GAN, "ok", text="새로 받은 페이지 본문"))
    elif change == "full":
        options["full"] = True
    else:
        manifest = IndexReader(settings.index_dir).manifest
        flip_byte(settings.index_dir / sorted(manifest["files"])[0])
    calls = _counting_parse(monkeypatch)
    again = fake_build([source], settings=settings, fetch=fetch_pages, offline=True, **options)
    assert len(calls) == 1
    if change == "page cached":  # the page's text is now indexed
        assert not again.report.unchanged and again.report.embedded >= 1
    if change == "index damaged":
        assert again.report.build_id != first.report.build_id
    IndexReader(settings.index_dir).close()  # whatever happened, an intact index is served


def test_an_offline_build_after_the_cache_was_lost_keeps_the_served_page_text(
    tmp_path, fake_build, fake_settings
):
    settings = fake_settings()
    text = "TPU 코랩 실습 자료: 모델을 TPU에서 학습시키는 방법을 단계별로 설명한다."
    with PageCache(settings.cache_dir) as cache:
        cache.put(PageRecord(TPU, "ok", title="TPU guide", text=text, last_ok_at="2024-05-01"))
    first = _offline_build(fake_build, settings, SAMPLE_LIST)
    assert first.report.fetch_counts.get("ok") == 1
    shutil.rmtree(settings.cache_dir)  # lost, or moved aside as damaged
    again = _offline_build(fake_build, settings, SAMPLE_LIST)
    assert any("kept their text" in w for w in again.report.warnings)
    assert again.report.fetch_counts == first.report.fetch_counts
    reader = IndexReader(settings.index_dir)
    try:
        doc = reader.docs[doc_position(reader, TPU)]
        assert reader.page_text(doc["id"]) == text
        assert (doc["page_title"], doc["last_ok_at"]) == ("TPU guide", "2024-05-01")
    finally:
        reader.close()


@pytest.mark.slow
def test_rebuilding_the_real_index_embeds_nothing(real_index):
    report = Builder(real_index.settings).build(real_index.sources, offline=True)
    assert report.unchanged
    assert (report.embedded, report.reused) == (0, REAL_PASSAGES)
    assert report.build_id == real_index.report.build_id


def test_one_changed_note_re_embeds_only_that_resource(tmp_path, fake_build, fake_settings):
    settings = fake_settings()
    first = fake_build(settings=settings)
    changed = edited(tmp_path, GAN_NOTE, "판별자 가중치 동결에 대해 꼭 알아야 할 점은")
    embedder = FakeEmbedder()
    again = fake_build([changed], settings=settings, embedder=embedder)
    assert not again.report.unchanged
    assert (again.report.embedded, again.report.reused) == (1, SAMPLE_PASSAGES - 1)
    (batch,) = embedder.passage_batches
    (text,) = batch
    assert text.startswith("GAN 모형에서 trainable 매개변수") and "가중치 동결" in text
    reader = IndexReader(settings.index_dir)
    assert reader.build_id == again.report.build_id != first.report.build_id
    # The other resources kept their vectors exactly.
    old = IndexReader(builds_dir(settings.index_dir) / first.report.build_id)
    gan = doc_position(reader, GAN)
    for pos in range(11):
        same = np.allclose(reader.doc_vectors[pos], old.doc_vectors[pos], atol=1e-6)
        assert same == (pos != gan)
    # And the new words are searchable.
    rows, _ = top_k(reader.lexical.scores(tokenize("동결"), {"notes": 1.0}), 5)
    assert set(rows.tolist()) == {gan}
    reader.close()
    old.close()


def test_a_changed_page_re_embeds_only_its_changed_passages(fake_build, fake_settings):
    settings = fake_settings()
    first_part, second_part = paragraph("tensor", 250), paragraph("core", 250)
    fake_build(
        settings=settings, fetch=page_fetch({TPU: ("TPU", f"{first_part}\n\n{second_part}")})
    )
    reader = IndexReader(settings.index_dir)
    kinds = [kind for _, kind, _ in reader.doc_passages(doc_position(reader, TPU))]
    assert kinds == ["profile", "page", "page"]
    reader.close()
    embedder = FakeEmbedder()
    new_text = f"{first_part}\n\n{paragraph('pod', 250)}"
    again = fake_build(
        settings=settings, embedder=embedder, fetch=page_fetch({TPU: ("TPU", new_text)})
    )
    # The profile and the first page passage are as before; the second one changed.
    (embedded,) = [text for batch in embedder.passage_batches for text in batch]
    assert embedded.startswith("Somethings about TPU\n") and "pod0" in embedded
    assert (again.report.embedded, again.report.reused) == (1, again.report.passages - 1)


def test_a_list_edit_that_changes_no_passage_embeds_nothing(tmp_path, fake_build, fake_settings):
    settings = fake_settings()
    fake_build(settings=settings)
    # Blank lines move every mention's line number (a new build) but no passage text.
    moved = edited(
        tmp_path, "# 케라스 오픈 챗에서 유용한 자료\n", "# 케라스 오픈 챗에서 유용한 자료\n\n\n"
    )
    embedder = FakeEmbedder()
    again = fake_build([moved], settings=settings, embedder=embedder)
    assert not again.report.unchanged
    assert (again.report.embedded, again.report.reused) == (0, SAMPLE_PASSAGES)
    assert embedder.passage_batches == []


def test_added_and_removed_resources(tmp_path, fake_build, fake_settings):
    settings = fake_settings()
    fake_build(settings=settings)
    added = tmp_path / "added.md"
    added.write_text("## 새 사람 (2019.06.01)\n\n* [A New Paper](https://ex.com/new)\n")
    grown = fake_build([SAMPLE_LIST, added], settings=settings)
    assert (grown.report.resources, grown.report.embedded, grown.report.reused) == (
        12,
        1,
        SAMPLE_PASSAGES,
    )
    shrunk = fake_build([added], settings=settings)
    assert (shrunk.report.resources, shrunk.report.embedded, shrunk.report.reused) == (1, 0, 1)
    reader = IndexReader(settings.index_dir)
    assert [doc["url"] for doc in reader.docs] == ["https://ex.com/new"]
    reader.close()


@pytest.mark.parametrize("kind", ["empty folder", "placeholders only", "binary file"])
def test_sources_without_a_link_or_note_publish_nothing(tmp_path, fake_build, fake_settings, kind):
    """An empty folder (a mistyped path, lists moved away) must not replace the served
    index with an empty one."""
    settings = fake_settings()
    served = fake_build(settings=settings)
    folder = tmp_path / "lists"
    folder.mkdir()
    if kind == "placeholders only":
        (folder / "todo.md").write_text("# Paper\n\n-\n\n## 스마트폰\n\n- []\n")
    elif kind == "binary file":
        (folder / "x.md").write_bytes(b"\x00\x01PNG" * 50)
    with pytest.raises(NothingToIndex, match=r"nothing published.*no link and no note"):
        fake_build([folder], settings=settings)
    reader = IndexReader(settings.index_dir)
    assert reader.build_id == served.report.build_id
    assert len(reader.docs) == 11
    reader.close()


def test_a_file_given_twice_or_inside_a_folder_given_is_read_once(tmp_path, fake_build):
    copy = tmp_path / "lists" / "list.md"
    copy.parent.mkdir()
    shutil.copy(SAMPLE_LIST, copy)
    built = fake_build([copy, copy, copy.parent, tmp_path / "lists" / ".." / "lists" / "list.md"])
    reader = IndexReader(built.path)
    assert len(reader.docs) == 11
    assert all(len(doc["mentions"]) == 1 for doc in reader.docs)
    reader.close()


def test_full_rebuild_and_model_change_re_embed_everything(fake_build, fake_settings):
    settings = fake_settings()
    fake_build(settings=settings)
    full = fake_build(settings=settings, full=True)
    assert (full.report.embedded, full.report.reused) == (SAMPLE_PASSAGES, 0)

    class OtherModel(FakeEmbedder):
        name = "fake-other"

    other = fake_build(settings=fake_settings(model="fake-other"), embedder=OtherModel())
    assert (other.report.embedded, other.report.reused) == (SAMPLE_PASSAGES, 0)
    assert IndexReader(settings.index_dir).manifest["model"] == "fake-other"


def test_an_ivf_index_reuses_its_vectors(tmp_path, fake_build, fake_settings):
    settings = fake_settings(ann_threshold=5)
    first = fake_build(settings=settings)
    assert first.report.dense_index == "ivf"
    old = IndexReader(settings.index_dir)
    changed = edited(tmp_path, GAN_NOTE, "완전히 새로운 메모")
    again = fake_build([changed], settings=settings)
    assert (again.report.embedded, again.report.dense_index) == (1, "ivf")
    new = IndexReader(settings.index_dir)
    gan_old, gan_new = doc_position(old, GAN), doc_position(new, GAN)
    keep_old = [r for r in range(11) if int(old.passage_docs[r]) != gan_old]
    keep_new = [r for r in range(11) if int(new.passage_docs[r]) != gan_new]
    np.testing.assert_allclose(old.vectors(keep_old), new.vectors(keep_new), atol=1e-6)
    old.close()
    new.close()


def test_a_new_ann_threshold_rebuilds_the_dense_index_without_embedding(fake_build, fake_settings):
    first = fake_build(settings=fake_settings())
    assert first.report.dense_index == "flat"
    embedder = FakeEmbedder()
    ivf = fake_build(settings=fake_settings(ann_threshold=5), embedder=embedder)
    assert (ivf.report.unchanged, ivf.report.dense_index) == (False, "ivf")
    assert (ivf.report.embedded, ivf.report.reused, embedder.passage_batches) == (
        0,
        SAMPLE_PASSAGES,
        [],
    )
    again = fake_build(settings=fake_settings(ann_threshold=5))
    assert again.report.unchanged and again.report.build_id == ivf.report.build_id
    flat = fake_build(settings=fake_settings())
    assert (flat.report.unchanged, flat.report.dense_index) == (False, "flat")


# --- builds killed mid-way ----------------------------------------------------------------

LIST_A = """## Alice (2020.01.02)

Papers on retrieval worth reading.

* [Dense Passage Retrieval for Open-Domain Question Answering](https://arxiv.org/abs/2004.04906)
* [ColBERT: Efficient and Effective Passage Search](https://arxiv.org/abs/2004.12832)

## Bob (2020.02.03)

* [The Annotated Transformer](https://nlp.seas.harvard.edu/2018/04/03/attention.html): line by line
"""
LIST_B = LIST_A.replace("line by line", "a walk through the paper") + (
    "\n## Carol (2020.03.04)\n\n* [Okapi BM25 ranking explained](https://ex.com/bm25)\n"
)
QUERY = "passage retrieval"

# Runs a build of LIST_B that stops for good at one stage, announcing it in a marker file.
# The lists are English so that the process never loads Kiwi, and indexer.embed is stubbed
# because the build embeds with FakeEmbedder: importing torch would take most of the test.
KILL_SCRIPT = r"""
import os, sys, time, types
from pathlib import Path

stage, index, cache, source, marker, tests_dir = sys.argv[1:7]
sys.path.insert(0, tests_dir)
stub = types.ModuleType("indexer.embed")
stub.Embedder = object
def load_embedder(name):
    raise RuntimeError("this build never loads a model")
stub.load_embedder = load_embedder
sys.modules["indexer.embed"] = stub

import indexer.store as store
from fakes import FakeEmbedder
from indexer.build import Builder, FetchOutcome
from indexer.config import load_settings

def block():
    Path(marker).write_text(str(os.getpid()))
    time.sleep(600)

def fetch(resources, settings, **options):
    if stage == "fetch":
        block()
    return FetchOutcome({}, {})

class Embedder(FakeEmbedder):
    def encode_passages(self, texts, batch_size=64, show_progress=False):
        if stage == "embed":
            block()
        return super().encode_passages(texts, batch_size, show_progress)

if stage == "write":  # every file written into the staging folder, not yet renamed
    fsync_tree = store._fsync_tree
    def fsync_then_block(folder):
        fsync_tree(folder)
        block()
    store._fsync_tree = fsync_then_block
if stage == "publish":  # the build renamed into place, the index link not yet switched
    def publish_blocked(index_path, build):
        block()
    store._publish = publish_blocked

settings = load_settings(env={}, index_dir=index, cache_dir=cache, model="fake")
Builder(settings, Embedder()).build([Path(source)], fetch=fetch)
raise SystemExit("the build finished instead of blocking")
"""


def answers(index: Path, settings) -> list[tuple[str, float]]:
    searcher = Searcher(IndexReader(index), FakeEmbedder(), settings)
    try:
        return [(hit.id, hit.score) for hit in searcher.search(QUERY, k=5).results]
    finally:
        searcher.reader.close()


def wait_for(marker: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not marker.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the build ended before reaching its stage:\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail("the build never reached its stage")
        time.sleep(0.02)


@pytest.mark.parametrize("stage", ["fetch", "embed", "write", "publish"])
def test_a_build_killed_mid_way_leaves_the_previous_index_serving(
    tmp_path, fake_build, fake_settings, stage
):
    (tmp_path / "a.md").write_text(LIST_A, encoding="utf-8")
    (tmp_path / "b.md").write_text(LIST_B, encoding="utf-8")
    settings = fake_settings()
    index = settings.index_dir
    before = fake_build([tmp_path / "a.md"], settings=settings)
    expected = answers(index, settings)
    assert len(expected) >= 2

    marker = tmp_path / "blocked"
    command = [sys.executable, "-c", KILL_SCRIPT, stage, str(index), str(tmp_path / "cache")]
    command += [str(tmp_path / "b.md"), str(marker), str(TESTS_DIR)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(TESTS_DIR.parent)}
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(marker, process)
        # While it hangs: the old index answers, and a second build is refused.
        assert answers(index, settings) == expected
        with pytest.raises(BuildLocked):
            fake_build([tmp_path / "b.md"], settings=settings)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()  # reaps it: a zombie would still count as a live build
    assert process.returncode == -signal.SIGKILL

    reader = IndexReader(index)
    assert reader.build_id == before.report.build_id
    assert "https://ex.com/bm25" not in {doc["url"] for doc in reader.docs}
    reader.close()
    assert answers(index, settings) == expected
    staging = list(builds_dir(index).glob("tmp-*"))
    finished = [p for p in builds_dir(index).iterdir() if p.is_dir() and p not in staging]
    if stage == "write":
        assert [p.name.split("-")[1] for p in staging] == [str(process.pid)]
    else:
        assert staging == []
    assert len(finished) == (2 if stage == "publish" else 1)

    after = fake_build([tmp_path / "b.md"], settings=settings)
    assert not after.report.unchanged
    assert after.report.build_id != before.report.build_id
    reader = IndexReader(index)
    assert reader.build_id == after.report.build_id
    assert "https://ex.com/bm25" in {doc["url"] for doc in reader.docs}
    reader.close()
    assert not list(builds_dir(index).glob("tmp-*"))


def test_the_sample_parses_as_the_build_expects():
    # The ids and URLs the tests above rely on.
    urls = {r.url for r in parse_sources([SAMPLE_LIST]).resources}
    assert {GAN, TPU} <= urls
