"""Faults with nothing lost: builds that SIGKILL themselves inside the page cache's
transactions, inside extraction and inside publication (test_build.py kills builds
blocked between stages); searches in other processes while the index is rebuilt; and
a page cache damaged where opening it does not look. bench/chaos.py runs the long
versions and reports the figures."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from chaoskit import (
    FAST_FETCH,
    LIST_A,
    LIST_B,
    PUBLISHED_AT,
    QUERIES,
    READER_QUERIES,
    Site,
    answers,
    complete_build,
    damage_after_kill,
    damage_garbage,
    damage_middle,
    damage_truncated,
    damage_wal,
    judge_answers,
    read_answers,
    run_killed_build,
    snapshot,
    start_reader,
)

from indexer.pagecache import CACHE_FILENAME, PageCache
from indexer.store import IndexReader, builds_dir

# One kill per point that test_build.py's between-stage kills do not reach.
KILLS = [
    "parse:3",  # in the middle of parsing the lists
    "fetch:10",  # inside a page-cache transaction: page row written, not committed
    "extract:2",  # extracting a changed page, in the fetcher's worker thread
    "write-meta:1",  # staging half written
    "link:1",  # the new symlink made, not yet swapped in
    "swapped:1",  # the new build published, the directory not yet fsynced
    "gc:1",  # half of an old build deleted
]


@pytest.mark.timeout(300)
def test_a_build_killed_anywhere_loses_nothing_and_the_next_one_completes(local_server, tmp_path):
    site = Site(local_server, pages=24)
    source = site.write_list(tmp_path / "list.md")
    index, cache = tmp_path / "index", tmp_path / "cache"
    for _ in range(3):  # enough finished builds for the next publish to collect one
        site.generation += 1
        complete_build(index, cache, [source], local_server.allow)
    before = snapshot(index, cache, QUERIES)
    assert len(before.pages) == 24
    assert all(before.answers.values())

    for kill in KILLS:
        site.generation += 1  # pages change, so the killed build has work at every stage
        killed, stderr = run_killed_build(
            index, cache, [source], kill=kill, allow=local_server.allow, env=FAST_FETCH
        )
        assert killed, f"{kill}: the build was not killed\n{stderr}"
        damage, served_id, served = damage_after_kill(index, cache, before)
        assert (damage.errors, damage.changed_answers, damage.lost_pages) == ([], [], []), kill
        point = kill.partition(":")[0]
        assert (served_id != before.build_id) == (point in PUBLISHED_AT), kill

        report = complete_build(index, cache, [source], local_server.allow)
        assert report.fetch_counts == {"ok": 24}
        assert not list(builds_dir(index).glob("tmp-*"))
        assert not list(tmp_path.glob(".index.link-*"))
        after = snapshot(index, cache, QUERIES)
        assert after.build_id == report.build_id
        if point in PUBLISHED_AT:  # what the killed build published is what a whole one gives
            assert served == after.answers, kill
        before = after
    assert not list(cache.glob("*.corrupt-*"))


# --------------------------------------------------------------- readers during rebuilds

REBUILDS = 6


@pytest.mark.timeout(300)
def test_searches_during_rebuilds_answer_from_the_old_or_the_new_index(
    tmp_path, fake_build, fake_settings
):
    sources = {}
    for name, text in (("a", LIST_A), ("b", LIST_B)):
        sources[name] = tmp_path / f"{name}.md"
        sources[name].write_text(text, encoding="utf-8")
    expected = []
    for name in ("a", "b"):  # each list built on its own: what a reader may see
        reference = fake_build([sources[name]], settings=fake_settings(f"ref-{name}"))
        expected.append(answers(reference.path, READER_QUERIES)[1])
    assert expected[0] != expected[1]

    settings = fake_settings("served")
    fake_build([sources["a"]], settings=settings)
    folder = tmp_path / "readers"
    readers = [
        start_reader(kind, settings.index_dir, READER_QUERIES, folder) for kind in ("cli", "app")
    ]
    try:
        _wait_ready(readers)
        builds = 0  # at least REBUILDS publishes under the readers, until both saw both
        while builds < REBUILDS or (
            builds < 40 and not all(_saw_both(out, expected) for _, out in readers)
        ):
            fake_build([sources["b" if builds % 2 == 0 else "a"]], settings=settings)
            builds += 1
            time.sleep(0.1)  # a rebuild takes longer than this with a real model
    finally:
        (folder / "stop").touch()
        errors = [process.communicate(timeout=60)[1] for process, _ in readers]
    for (process, out), stderr in zip(readers, errors, strict=True):
        assert process.returncode == 0, stderr
        verdict = judge_answers(read_answers(out), expected)
        assert verdict["errors"] == [], out.name
        assert verdict["mixed"] == [], out.name
        assert verdict["seen"] == {0, 1}, f"{out.name} never saw a rebuild"
        assert verdict["searches"] >= 2 * len(READER_QUERIES)


def _wait_ready(readers) -> None:
    deadline = time.monotonic() + 120
    for process, out in readers:
        while not Path(str(out) + ".ready").exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, f"{out.name} never answered"
            time.sleep(0.05)


def _saw_both(out: Path, expected: list[dict]) -> bool:
    return judge_answers(read_answers(out), expected)["seen"] == {0, 1}


# --------------------------------------------------------------- a damaged page cache


@pytest.mark.parametrize("damage", [damage_middle, damage_garbage, damage_truncated, damage_wal])
def test_a_damaged_page_cache_is_set_aside_and_refilled_while_the_index_serves(
    local_server, tmp_path, damage, caplog
):
    site = Site(local_server, pages=24)
    source = site.write_list(tmp_path / "list.md")
    index, cache = tmp_path / "index", tmp_path / "cache"
    first = complete_build(index, cache, [source], local_server.allow)
    served = snapshot(index, cache, QUERIES)
    damage(cache / CACHE_FILENAME)

    assert answers(index, QUERIES) == (first.build_id, served.answers)  # never needed the cache
    site.generation += 1
    report = complete_build(index, cache, [source], local_server.allow)
    assert report.fetch_counts == {"ok": 24}
    reader = IndexReader(index)
    assert reader.build_id == report.build_id
    assert all(reader.page_text(doc["id"]) for doc in reader.docs)  # every page's text
    reader.close()
    with PageCache(cache) as pages:
        assert {record.url for record in pages.all() if record.text} == set(served.pages)
    set_aside = list(cache.glob(f"{CACHE_FILENAME}.corrupt-*"))
    if damage is damage_wal:  # SQLite ignores WAL frames whose checksums fail
        assert set_aside == []
    else:
        assert len([p for p in set_aside if not p.name.endswith(("-wal", "-shm"))]) == 1
        assert "moved it to" in caplog.text


def test_a_cache_damaged_in_the_middle_used_to_fail_pages_one_by_one(tmp_path):
    """The open-time check reads only the header and the last leaves; damage elsewhere
    surfaced as sqlite3.DatabaseError from get() and all(), page after page."""
    with PageCache(tmp_path) as pages:
        for number in range(400):
            pages.put(_record(number))
    damage_middle(tmp_path / CACHE_FILENAME)
    with PageCache(tmp_path) as pages:
        assert pages.get(_record(0).url) is None  # set aside, not raised
        assert list(pages.all()) == []
        pages.put(_record(1))
        assert pages.get(_record(1).url).text == _record(1).text
    assert len(list(tmp_path.glob(f"{CACHE_FILENAME}.corrupt-*"))) == 1


def _record(number: int):
    from indexer.pagecache import PageRecord

    return PageRecord(f"https://example.com/{number:04d}", "ok", text=f"page {number} " * 40)
