"""The page cache: storage, record transitions, and recovery from a damaged file."""

from __future__ import annotations

import logging

from indexer.config import FetchLimits
from indexer.pagecache import (
    PageCache,
    PageRecord,
    StoredResponse,
    failure_record,
    not_modified_record,
    response_record,
)

HTML = (
    b"<html><head><title>Kept</title></head><body><p>What the page used to say.</p></body></html>"
)


def good_record() -> tuple[PageRecord, StoredResponse]:
    response = StoredResponse(
        "https://x.example/final",
        200,
        "OK",
        [("Content-Type", "text/html"), ("ETag", '"abc"'), ("Content-Encoding", "gzip")],
        HTML,
        "2024-01-01T00:00:00.000+00:00",
    )
    record, stored = response_record(
        None, "https://x.example/", response, FetchLimits(), now="2024-01-01T00:00:00.000+00:00"
    )
    return record, stored


def test_a_good_response_becomes_an_ok_record_with_its_validators():
    record, stored = good_record()
    assert (record.status, record.title, record.text) == (
        "ok",
        "Kept",
        "What the page used to say.",
    )
    assert (record.etag, record.final_url, record.kind) == (
        '"abc"',
        "https://x.example/final",
        "html",
    )
    assert record.last_ok_at == record.fetched_at
    assert stored is not None


def test_failures_keep_the_last_good_text_and_validators():
    record, _ = good_record()
    dead = failure_record(
        record, record.url, status="http_404", now="2024-02-01T00:00:00.000+00:00", http_status=404
    )
    assert (dead.status, dead.http_status, dead.text, dead.title) == (
        "http_404",
        404,
        record.text,
        record.title,
    )
    assert dead.last_ok_at == record.last_ok_at != dead.fetched_at
    assert dead.etag == record.etag
    revived = not_modified_record(
        dead, now="2024-03-01T00:00:00.000+00:00", etag=None, last_modified=None
    )
    assert (revived.status, revived.http_status, revived.text) == ("not_modified", 304, record.text)
    assert revived.last_ok_at == revived.fetched_at == "2024-03-01T00:00:00.000+00:00"


def test_unreadable_body_is_unsupported_type_and_keeps_old_text():
    record, _ = good_record()
    binary = StoredResponse(
        "https://x.example/", 200, "OK", [("Content-Type", "application/zip")], b"PK\x03\x04", "t"
    )
    after, stored = response_record(record, record.url, binary, FetchLimits(), now="t2")
    assert (after.status, after.text, stored) == ("unsupported_type", record.text, None)


def test_records_and_responses_round_trip(tmp_path):
    record, stored = good_record()
    with PageCache(tmp_path) as cache:
        cache.put(record, stored)
    with PageCache(tmp_path) as cache:
        assert cache.get("https://X.example/?utm_source=feed") == record  # normalised key
        assert cache.response(record.url) == stored
        assert cache.get("https://x.example/other") is None


def test_the_state_changes_with_every_write_and_differs_between_caches(tmp_path):
    with PageCache(tmp_path / "a") as cache:
        empty = cache.state()
        cache.get("https://x.example/")  # reading changes nothing
        assert cache.state() == empty
        cache.put(PageRecord("https://x.example/", "ok", text="one"))
        once = cache.state()
        cache.put(PageRecord("https://x.example/", "ok", text="one"))  # same record again
        twice = cache.state()
    with PageCache(tmp_path / "a") as cache:
        assert cache.state() == twice  # kept on disk
    with PageCache(tmp_path / "b") as other:
        other.put(PageRecord("https://x.example/", "ok", text="one"))
        assert other.state() != once  # same writes, another cache
    assert len({empty, once, twice}) == 3


def test_all_reads_every_page_in_batches(tmp_path):
    with PageCache(tmp_path) as cache:
        for n in range(1234):
            cache.put(PageRecord(f"https://x.example/{n:05d}", "ok", text=str(n)))
        pages = list(cache.all())
    assert len(pages) == 1234
    assert [p.url for p in pages] == sorted(p.url for p in pages)
    assert {p.text for p in pages} == {str(n) for n in range(1234)}


def test_corrupt_cache_file_is_moved_aside(tmp_path, caplog):
    garbage = b"this is not a database at all" * 100
    (tmp_path / "pages.sqlite").write_bytes(garbage)
    with caplog.at_level(logging.WARNING), PageCache(tmp_path) as cache:
        assert len(cache) == 0
        cache.put(PageRecord("https://example.com/", "ok", text="fresh"))
        assert cache.get("https://example.com/").text == "fresh"
    moved = list(tmp_path.glob("pages.sqlite.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_bytes() == garbage
    assert str(tmp_path / "pages.sqlite") in caplog.text


def test_truncated_cache_file_is_moved_aside(tmp_path, caplog):
    with PageCache(tmp_path) as cache:
        for n in range(300):
            cache.put(PageRecord(f"https://example.com/{n}", "ok", text=f"page {n} " * 200))
    path = tmp_path / "pages.sqlite"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING), PageCache(tmp_path) as cache:
        assert len(cache) == 0
    assert "truncated" in caplog.text
    assert len(list(tmp_path.glob("pages.sqlite.corrupt-*"))) == 1


def test_a_cache_that_looks_damaged_while_another_holds_it_open_is_waited_out(tmp_path):
    """Another process mid-write can make the file look damaged for a moment: while that
    process has the cache open, nothing is moved aside, and the open succeeds once the
    file is whole again."""
    import threading
    import time

    with PageCache(tmp_path) as writer:
        writer.put(PageRecord("https://example.com/kept", "ok", text="kept"))
        path = tmp_path / "pages.sqlite"
        whole = path.read_bytes()
        path.write_bytes(b"half-written" * 10)  # what a reader may see for a moment
        opened = []
        reader = threading.Thread(target=lambda: opened.append(PageCache(tmp_path)))
        reader.start()
        time.sleep(0.3)
        assert not list(tmp_path.glob("pages.sqlite.corrupt-*"))  # waiting, not moving
        path.write_bytes(whole)
        reader.join(timeout=15)
        assert opened and opened[0].get("https://example.com/kept").text == "kept"
        opened[0].close()
    assert not list(tmp_path.glob("pages.sqlite.corrupt-*"))
