"""`recall add`: an entry in the list's own shape, written atomically under a lock, the page
fetched, and an index published that embeds only the new passages."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from fakes import FakeEmbedder
from httpserver import page

from indexer import add as add_module
from indexer import fetch as fetch_module
from indexer.add import AddError, AddRequest, add_resource, append_entry, entry_for
from indexer.build import Builder
from indexer.cli import main
from indexer.listwriter import Entry, EntryLink
from indexer.search import Searcher
from indexer.sources.files import parse_sources
from indexer.store import IndexMetadata, IndexReader

HTML = (
    b"<html><head><title>Gradient checkpointing explained</title></head><body>"
    b"<article><p>Gradient checkpointing trades compute for memory when training deep "
    b"networks: activations are recomputed in the backward pass.</p></article></body></html>"
)


def _searcher(settings, embedder) -> Searcher:
    return Searcher(IndexReader(settings.index_dir), embedder)


def _settings(fake_settings, tmp_path, server=None):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    allow = (server.allow,) if server else ()
    return fake_settings(data_dir=data, allow_hosts=allow)


def test_an_added_resource_reads_back_and_is_searchable(local_server, tmp_path, fake_settings):
    local_server.route("/ckpt", page(HTML))
    settings = _settings(fake_settings, tmp_path, local_server)
    url = local_server.url("/ckpt")
    embedder = FakeEmbedder()
    note = "메모리를 아끼는 <b>학습</b> 방법 [링크](javascript:x)"
    request = AddRequest(url, note, "김철수", "2024-05-01")
    result = add_resource(settings, request, embedder=embedder)
    assert result.searchable and result.fetch_status == "ok" and result.link_health == "ok"
    assert result.list_file == str(settings.data_dir / "added.md") and result.line == 1
    text = (settings.data_dir / "added.md").read_text(encoding="utf-8")
    assert text.startswith("## 김철수 (2024.05.01)\n")
    (resource,) = parse_sources([settings.data_dir]).resources
    (mention,) = resource.mentions
    assert (mention.contributor, mention.date) == ("김철수", "2024-05-01")
    assert mention.note == "메모리를 아끼는 <b>학습</b> 방법 [링크](javascript:x)"
    searcher = _searcher(settings, embedder)
    hits = searcher.search("gradient checkpointing memory").results
    assert hits[0].url == url and hits[0].title == "Gradient checkpointing explained"

    # A second resource: only its passages are embedded; the first one's are reused.
    local_server.route("/other", page(HTML.replace(b"Gradient", b"Mixed precision")))
    before = len(embedder.passage_batches)
    add_resource(settings, AddRequest(local_server.url("/other")), embedder=embedder)
    new_batches = embedder.passage_batches[before:]
    assert sum(len(b) for b in new_batches) == 2  # its profile and its one page passage


def test_a_url_already_listed_is_another_mention(local_server, tmp_path, fake_settings):
    local_server.route("/ckpt", page(HTML))
    settings = _settings(fake_settings, tmp_path, local_server)
    url = local_server.url("/ckpt")
    (settings.data_dir / "list.md").write_text(
        f"## 이영희 (2024.04.01)\n\n* [Checkpointing]({url})\n", encoding="utf-8"
    )
    embedder = FakeEmbedder()
    Builder(settings, embedder).build([settings.data_dir])  # the collection, as served
    first = add_resource(settings, AddRequest(url, "다시 공유"), embedder=embedder)
    assert first.already == [f"{settings.data_dir / 'list.md'}:3"]
    second = add_resource(settings, AddRequest(url + "#top", "또"), embedder=embedder)
    assert f"{settings.data_dir / 'added.md'}:5" in second.already  # its link's line
    (resource,) = parse_sources([settings.data_dir]).resources
    assert len(resource.mentions) == 3
    reader = IndexMetadata(settings.index_dir)
    assert [d["url"] for d in reader.docs if d["kind"] == "resource"] == [url]
    reader.close()


def test_another_url_of_a_listed_video_says_where_it_already_is(tmp_path, fake_settings):
    settings = _settings(fake_settings, tmp_path)
    watch = "https://www.youtube.com/watch?v=2np77NOdnwk&t=30s"
    (settings.data_dir / "list.md").write_text(
        f"## 이영희 (2024.04.01)\n\n* [LSTM talk]({watch})\n", encoding="utf-8"
    )
    embedder = FakeEmbedder()
    Builder(settings, embedder).build([settings.data_dir], offline=True)
    short = AddRequest("https://youtu.be/2np77NOdnwk", "발표 영상")
    first = add_resource(settings, short, offline=True, embedder=embedder)
    assert first.already == [f"{settings.data_dir / 'list.md'}:3"] and first.searchable
    mobile = AddRequest("https://m.youtube.com/watch?v=2np77NOdnwk&feature=share")
    second = add_resource(settings, mobile, offline=True, embedder=embedder)
    assert f"{settings.data_dir / 'list.md'}:3" in second.already
    assert f"{settings.data_dir / 'added.md'}:5" in second.already  # the youtu.be one


@pytest.mark.parametrize("child", ["runs", "cannot start", "fails"])
def test_the_page_is_fetched_in_a_child_or_else_here(
    local_server, tmp_path, fake_settings, monkeypatch, child
):
    """The CLI's page fetch runs in `python -m indexer.fetch`; a child that cannot start or
    fails leaves the fetch to this process, and the page arrives either way."""
    local_server.route("/ckpt", page(HTML))
    settings = _settings(fake_settings, tmp_path, local_server)
    in_process = []
    real = fetch_module.fetch_one
    monkeypatch.setattr(fetch_module, "fetch_one", lambda *a: in_process.append(1) or real(*a))
    if child == "cannot start":
        monkeypatch.setattr(add_module.subprocess, "Popen", _refuse)
    elif child == "fails":
        monkeypatch.setattr(add_module.sys, "executable", "/bin/false")
    request = AddRequest(local_server.url("/ckpt"), "체크포인팅")
    result = add_resource(settings, request, embedder=FakeEmbedder(), fetch_in_child=True)
    assert result.fetch_status == "ok" and result.link_health == "ok" and result.searchable
    assert len(local_server.hits("/ckpt")) == 1  # fetched once, by one process or the other
    assert in_process == ([] if child == "runs" else [1])
    hits = _searcher(settings, FakeEmbedder()).search("gradient checkpointing").results
    assert hits[0].title == "Gradient checkpointing explained"


def test_a_list_that_cannot_be_written_stops_the_fetch_started_for_it(
    local_server, tmp_path, fake_settings, monkeypatch
):
    local_server.route("/ckpt", page(HTML))
    settings = _settings(fake_settings, tmp_path, local_server)
    started = []
    monkeypatch.setattr(add_module, "PageFetch", _Recorded(add_module.PageFetch, started))

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(add_module.os, "replace", full_disk)
    request = AddRequest(local_server.url("/ckpt"), "체크포인팅")
    with pytest.raises(AddError, match="cannot write the list"):
        add_resource(settings, request, embedder=FakeEmbedder(), fetch_in_child=True)
    (fetch,) = started
    assert fetch._child is None  # killed and reaped
    assert not (settings.data_dir / "added.md").exists()
    assert not settings.index_dir.exists()


class _Recorded:
    def __init__(self, cls, made: list):
        self.cls, self.made = cls, made

    def __call__(self, *args, **kwargs):
        self.made.append(self.cls(*args, **kwargs))
        return self.made[-1]


def _refuse(*args, **kwargs):
    raise OSError("no processes left")


def test_a_page_that_cannot_be_fetched_is_added_and_found_by_its_title_and_note(
    tmp_path, fake_settings
):
    settings = _settings(fake_settings, tmp_path)
    embedder = FakeEmbedder()
    request = AddRequest(
        "https://papers.example.org/x", "희소 주의 메커니즘", title="Sparse attention"
    )
    result = add_resource(settings, request, offline=True, embedder=embedder)
    assert result.searchable and result.fetch_status == "offline"
    assert result.link_health == "unchecked"
    hits = _searcher(settings, embedder).search("희소 주의 메커니즘").results
    assert hits[0].title == "Sparse attention" and hits[0].link_health == "unchecked"


def test_adding_rebuilds_what_the_served_index_was_built_from(tmp_path, fake_settings, monkeypatch):
    """No data folder: the index was built from a folder given as a relative path, and the
    add runs from another folder. The rebuild reads that folder again (it used to stop at
    the missing data folder after writing the entry, or could have kept the new list only)."""
    settings = fake_settings(data_dir=Path("no-data"))
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "shared.md").write_text(
        "## 김가나 (2019.01.01)\n\n* [Old Paper](https://ex.com/old)\n"
    )
    monkeypatch.chdir(tmp_path)
    embedder = FakeEmbedder()
    Builder(settings, embedder).build([Path("lists")], offline=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    request = AddRequest("https://ex.com/new", "새 자료", "이다라", "2024-05-01", "New Paper")
    result = add_resource(settings, request, tmp_path / "mine.md", offline=True, embedder=embedder)
    assert result.searchable
    reader = IndexMetadata(settings.index_dir)
    assert sorted(doc["url"] for doc in reader.docs) == ["https://ex.com/new", "https://ex.com/old"]
    reader.close()
    # The next add reads the list written to as well.
    later = AddRequest("https://ex.com/later", title="Later Paper")
    add_resource(settings, later, tmp_path / "mine.md", offline=True, embedder=embedder)
    reader = IndexMetadata(settings.index_dir)
    assert len(reader.docs) == 3
    reader.close()


def test_a_date_may_be_tomorrow_somewhere_but_not_later():
    today = date(2026, 12, 3)
    assert entry_for(AddRequest("https://ex.com/a", date="2026-12-04"), today).date == "2026-12-04"
    with pytest.raises(AddError, match="not a date it was shared on: 2026-12-05"):
        entry_for(AddRequest("https://ex.com/a", date="2026-12-05"), today)
    assert entry_for(AddRequest("https://ex.com/a"), today).date == "2026-12-03"


def test_an_add_that_would_drop_a_gone_source_writes_nothing(tmp_path, fake_settings):
    settings = fake_settings(data_dir=tmp_path / "no-data")
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "shared.md").write_text("## 김가나 (2019.01.01)\n\n* [Old](https://ex.com/old)\n")
    Builder(settings, FakeEmbedder()).build([lists], offline=True)
    served = IndexMetadata(settings.index_dir).build_id
    (lists / "shared.md").rename(tmp_path / "moved.md")
    lists.rmdir()
    mine = tmp_path / "mine.md"
    with pytest.raises(AddError, match=r"was built from .*lists, which is gone"):
        add_resource(settings, AddRequest("https://ex.com/new"), mine, offline=True)
    assert not mine.exists()
    assert IndexMetadata(settings.index_dir).build_id == served


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not a url"], "not a web address"),
        (["ftp://files.example.org/a.pdf"], "unsupported scheme"),
        (["javascript:alert(1)"], "unsupported scheme"),
        (["https://example.org/a", "--note", "  "], "the note says nothing"),
        (["https://example.org/a", "--note", " - "], "the note says nothing"),
        (["https://example.org/a", "--note", "[...]"], "the note says nothing"),
        (["https://example.org/a", "--date", "2024-13-01"], "not a date"),
        (["https://example.org/a", "--date", "2100-01-01"], "not a date it was shared on"),
        (["https://example.org/a", "--date", "1899-12-31"], "not a date it was shared on"),
        (["https://example.org/a", "--list", "{tmp}/data/sub.md"], "is a folder"),
        (["https://example.org/a", "--list", "{tmp}/missing/list.md"], "no such folder"),
        (["https://example.org/a", "--list", "{tmp}/data/list.txt"], "markdown file"),
    ],
)
def test_bad_input_is_a_clear_error_and_nothing_is_written(tmp_path, capsys, args, message):
    data = tmp_path / "data"
    (data / "sub.md").mkdir(parents=True)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code = main(["--data", str(data), "add", *args, "--index", str(tmp_path / "index")])
    assert code == 2 and message in capsys.readouterr().err
    assert [p.name for p in data.iterdir()] == ["sub.md"] and not (tmp_path / "index").exists()


def test_an_unwritable_list_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    from indexer.add import list_path

    target = tmp_path / "list.md"
    target.write_text("## 김철수 (2024.05.01)\n", encoding="utf-8")
    monkeypatch.setattr("os.access", lambda path, mode: Path(path) != target)  # as root
    with pytest.raises(AddError, match="is not writable"):
        list_path(None, target)
    assert target.read_text(encoding="utf-8") == "## 김철수 (2024.05.01)\n"


def test_concurrent_writers_lose_nothing(tmp_path):
    target = tmp_path / "added.md"

    def write(i: int) -> int:
        entry = Entry(f"사람{i % 5}", "2024-05-01", f"메모 {i}", [EntryLink(f"https://e.org/{i}")])
        return append_entry(target, entry)[0].start

    with ThreadPoolExecutor(16) as pool:
        lines = list(pool.map(write, range(50)))
    resources = parse_sources([target]).resources
    assert len(resources) == 50 and len(set(lines)) == 50
    assert sorted(r.mentions[0].note for r in resources) == sorted(f"메모 {i}" for i in range(50))
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_recall_add_with_the_real_model(local_server, tmp_path, monkeypatch, capsys):
    """The CLI end to end: the bundled model embeds the new passages."""
    local_server.route("/ckpt", page(HTML))
    data = tmp_path / "data"
    data.mkdir()
    index = tmp_path / "index"
    monkeypatch.setenv("RECALL_CACHE", str(tmp_path / "cache"))
    url = local_server.url("/ckpt")
    argv = ["--data", str(data), "add", url, "--by", "박해선", "--note", "체크포인팅 정리"]
    argv += ["--index", str(index), "--allow-host", local_server.allow, "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["searchable"] and result["link_health"] == "ok"
    assert main(["search", "체크포인팅으로 메모리 절약", "--index", str(index), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["results"][0]["url"] == url
    assert answer["results"][0]["link_health"] == "ok"
    assert Path(result["list_file"]).read_text(encoding="utf-8").count("## ") == 1
