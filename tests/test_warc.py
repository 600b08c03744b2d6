"""WARC export and import: the pages behind a list survive the sites that served them."""

from __future__ import annotations

import io
import json

import pytest
from httpserver import redirect
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from indexer.cli import main
from indexer.config import FetchLimits
from indexer.fetch import Fetcher
from indexer.pagecache import PageCache, PageRecord
from indexer.warc import export_warc, import_warc

LIMITS = FetchLimits(per_host_delay=0.0, retries=0, total_timeout=3.0)
PAGES = ["/article.html", "/paper.pdf", "/korean-euckr.html", "/moved"]


def fetched_cache(server, cache_dir) -> dict[str, PageRecord]:
    server.route("/moved", redirect("/notes.md", 301))
    with PageCache(cache_dir) as cache:
        fetcher = Fetcher(cache, LIMITS, allow_hosts=[server.allow])
        return fetcher.fetch_all(server.url(p) for p in PAGES)


def write_warc(path, records, gzip=True) -> None:
    """records: (uri, status line, headers, body)."""
    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=gzip)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        for uri, statusline, headers, body in records:
            http = StatusAndHeaders(statusline, headers, protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    uri, "response", payload=io.BytesIO(body), http_headers=http
                )
            )


HTML = [("Content-Type", "text/html; charset=utf-8")]


def page_html(word: str) -> bytes:
    html = f"<html><head><title>{word}</title></head><body><p>{word} lives here.</p></body></html>"
    return html.encode()


@pytest.mark.parametrize("name", ["pages.warc.gz", "pages.warc"])
def test_export_then_import_then_offline_fetch_finds_the_same_text(local_server, tmp_path, name):
    original = fetched_cache(local_server, tmp_path / "live")
    assert {r.status for r in original.values()} == {"ok"}
    archive = tmp_path / name
    with PageCache(tmp_path / "live") as cache:
        assert export_warc(cache, archive) == 4

    with open(archive, "rb") as f:
        types = [record.rec_type for record in ArchiveIterator(f)]
    assert types[0] == "warcinfo"
    assert types.count("response") == 5  # four pages and the listed URL that redirected

    urls = [local_server.url(p) for p in PAGES]
    with PageCache(tmp_path / "restored") as cache:
        summary = import_warc(cache, archive, urls, LIMITS)
        assert (summary.imported, summary.unlisted, summary.stopped_at) == (4, 1, None)
        seen = len(local_server.requests)
        restored = Fetcher(cache, LIMITS, offline=True).fetch_all(urls)
    assert len(local_server.requests) == seen
    for key, before in original.items():
        after = restored[key]
        assert after.status == "ok"
        assert after.text == before.text and after.text
        assert after.title == before.title
        assert after.final_url == before.final_url
        assert after.etag == before.etag and after.last_modified == before.last_modified
    assert restored[local_server.url("/moved")].final_url == local_server.url("/notes.md")


def test_imported_page_is_revalidated_with_its_archived_validators(local_server, tmp_path):
    fetched_cache(local_server, tmp_path / "live")
    with PageCache(tmp_path / "live") as cache:
        export_warc(cache, tmp_path / "a.warc.gz")
    url = local_server.url("/article.html")
    with PageCache(tmp_path / "restored") as cache:
        import_warc(cache, tmp_path / "a.warc.gz", [url], LIMITS)
        fetcher = Fetcher(cache, LIMITS, allow_hosts=[local_server.allow])
        records = fetcher.fetch_all([url])
    assert records[url].status == "not_modified"
    assert fetcher.stats.conditional == fetcher.stats.requests == 1


def test_unlisted_records_are_counted_and_ignored(tmp_path):
    archive = tmp_path / "mixed.warc.gz"
    write_warc(
        archive,
        [
            ("https://listed.example/a", "200 OK", HTML, page_html("alpha")),
            ("https://other.example/b", "200 OK", HTML, page_html("beta")),
            ("https://listed.example/gone", "404 Not Found", HTML, b"gone"),
        ],
    )
    with PageCache(tmp_path / "cache") as cache:
        summary = import_warc(
            cache, archive, ["https://listed.example/a?utm_source=x", "https://listed.example/gone"]
        )
        assert (summary.records, summary.imported, summary.unlisted) == (4, 2, 1)
        assert cache.get("https://listed.example/a").text == "alpha lives here."
        assert cache.get("https://listed.example/gone").status == "http_404"
        assert cache.get("https://other.example/b") is None


def test_import_never_replaces_a_newer_cached_page(tmp_path):
    archive = tmp_path / "old.warc"
    write_warc(archive, [("https://x.example/", "200 OK", HTML, page_html("old"))], gzip=False)
    with PageCache(tmp_path / "cache") as cache:
        newer = PageRecord("https://x.example/", "ok", text="new", fetched_at="2999-01-01T00:00:00")
        cache.put(newer)
        summary = import_warc(cache, archive, ["https://x.example/"])
        assert (summary.imported, summary.older) == (0, 1)
        assert cache.get("https://x.example/").text == "new"


@pytest.mark.parametrize("gzip", [True, False])
def test_truncated_archive_imports_what_it_can_and_says_where_it_stopped(tmp_path, gzip):
    whole = tmp_path / "whole.warc"
    records = [
        (f"https://t.example/{n}", "200 OK", HTML, page_html(f"page{n} " * 300)) for n in range(4)
    ]
    write_warc(whole, records, gzip=gzip)
    data = whole.read_bytes()
    cut = tmp_path / "cut.warc"
    cut.write_bytes(data[: len(data) * 3 // 4])
    urls = [uri for uri, *_ in records]
    with PageCache(tmp_path / "cache") as cache:
        summary = import_warc(cache, cut, urls)
        assert summary.stopped_at is not None and "at byte" in summary.stopped_at
        assert 1 <= summary.imported < 4
        for url in urls[: summary.imported]:
            assert cache.get(url).status == "ok"
        assert all(cache.get(url) is None for url in urls[summary.imported :])


def test_garbage_file_is_reported_not_raised(tmp_path):
    junk = tmp_path / "junk.warc"
    junk.write_bytes(b"this is not an archive\n" * 50)
    with PageCache(tmp_path / "cache") as cache:
        summary = import_warc(cache, junk, ["https://x.example/"])
    assert summary.imported == 0
    assert summary.stopped_at is not None and summary.stopped_at.startswith("record 1 at byte 0")


def test_cli_export_then_import_offline(local_server, tmp_path, capsys, monkeypatch):
    for name in ("RECALL_ALLOW_HOSTS", "RECALL_CACHE", "RECALL_DATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECALL_FETCH_PER_HOST_DELAY", "0")
    local_server.route("/moved", redirect("/notes.md", 301))
    lists = tmp_path / "lists"
    lists.mkdir()
    links = "\n".join(f"* {local_server.url(p)}" for p in PAGES)
    (lists / "list.md").write_text(f"## Links (2020.01.02)\n\n{links}\n", encoding="utf-8")
    archive = tmp_path / "list.warc.gz"
    live = ["--data", str(lists), "fetch", "--cache", str(tmp_path / "live"), "--json"]
    assert main([*live, "--allow-host", local_server.allow, "--export-warc", str(archive)]) == 0
    before = json.loads(capsys.readouterr().out)
    assert before["export"]["responses"] == 4
    seen = len(local_server.requests)

    restored = ["--data", str(lists), "fetch", "--cache", str(tmp_path / "restored"), "--json"]
    assert main([*restored, "--offline", "--import-warc", str(archive)]) == 0
    after = json.loads(capsys.readouterr().out)
    assert len(local_server.requests) == seen
    assert after["import"]["imported"] == 4
    assert after["counts"] == before["counts"] == {"ok": 4}
    for old, new in zip(before["resources"], after["resources"], strict=True):
        assert (new["url"], new["title"], new["text_length"]) == (
            old["url"],
            old["title"],
            old["text_length"],
        )
