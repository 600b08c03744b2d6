"""Link health: dead only on evidence that a page is gone, seen twice a day apart with the
network up; everything else is unreachable, unchecked or unfetchable, end to end."""

from __future__ import annotations

import json
import socket
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from fakes import FakeEmbedder
from httpserver import page, status

from indexer.build import Builder
from indexer.checklinks import change_kind
from indexer.cli import main
from indexer.export import export_rows, index_stats
from indexer.fetch import Fetcher
from indexer.linkhealth import (
    ALIVE,
    FAILED,
    GONE,
    DeadRule,
    check_result,
    is_dead,
    link_health,
    observe,
)
from indexer.pagecache import PageCache
from indexer.resources import normalize_url
from indexer.store import IndexMetadata
from search_ui.cards import health, status_badge

RULE = DeadRule()
DAY0 = "2024-05-01T10:00:00+00:00"
DAY1 = "2024-05-02T10:00:00+00:00"
LATER_DAY0 = "2024-05-01T18:00:00+00:00"
HTML = b"<html><head><title>Alive page</title></head><body><p>alive text</p></body></html>"


def _age_checks(cache_dir, days: float) -> None:
    """As if every check so far had been made `days` ago."""
    then = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")
    with sqlite3.connect(cache_dir / "pages.sqlite") as db:
        for column in ("checked_at", "gone_since", "gone_last_at", "alive_at"):
            db.execute(f"UPDATE link_checks SET {column} = ? WHERE {column} IS NOT NULL", (then,))


# ------------------------------------------------------------------------ the rule


def test_one_404_is_not_dead_two_a_day_apart_are():
    first = observe(None, "u", GONE, DAY0)
    assert not is_dead(first, RULE)
    assert not is_dead(observe(first, "u", GONE, LATER_DAY0), RULE)  # same day
    second = observe(first, "u", GONE, DAY1)
    assert second.gone_checks == 2 and is_dead(second, RULE)
    assert link_health("http_404", second, RULE) == "dead"
    assert link_health("http_404", first, RULE) == "unreachable"


def test_the_rule_is_configurable():
    rule = DeadRule.from_env({"RECALL_DEAD_AFTER_CHECKS": "3", "RECALL_DEAD_AFTER_DAYS": "0"})
    evidence = observe(observe(None, "u", GONE, DAY0), "u", GONE, DAY1)
    assert rule == DeadRule(3, 0.0) and not is_dead(evidence, rule)
    assert is_dead(observe(evidence, "u", GONE, DAY1), rule)


def test_a_page_seen_alive_starts_over_and_a_failing_check_is_not_gone():
    dead = observe(observe(None, "u", GONE, DAY0), "u", GONE, DAY1)
    revived = observe(dead, "u", ALIVE, "2024-05-03T10:00:00+00:00")
    assert revived.gone_checks == 0 and revived.alive_at.startswith("2024-05-03")
    again = observe(revived, "u", GONE, "2024-05-04T10:00:00+00:00")
    assert again.gone_checks == 1 and not is_dead(again, RULE)
    # A timeout after two gone checks: no proof either way now, so not dead.
    timed_out = observe(dead, "u", FAILED, "2024-05-03T10:00:00+00:00")
    assert timed_out.gone_checks == 2 and not is_dead(timed_out, RULE)
    assert link_health("timeout", timed_out, RULE) == "unreachable"


@pytest.mark.parametrize(
    ("status_", "http", "nxdomain", "others_up", "result"),
    [
        ("http_404", 404, False, False, GONE),
        ("http_410", 410, False, False, GONE),
        ("dns", None, True, True, GONE),
        ("dns", None, True, False, FAILED),  # no other host answered: maybe no network
        ("dns", None, False, True, FAILED),  # a temporary resolver failure
        ("timeout", None, False, True, FAILED),
        ("http_503", 503, False, True, FAILED),
        ("http_429", 429, False, True, FAILED),
        ("robots", None, False, True, FAILED),
        ("ok", 200, False, False, ALIVE),
        ("unsupported_type", 200, False, False, ALIVE),
    ],
)
def test_check_results(status_, http, nxdomain, others_up, result):
    assert check_result(status_, http, nxdomain, others_up) == result


@pytest.mark.parametrize(
    ("fetch_status", "expected"),
    [
        ("ok", "ok"),
        ("not_modified", "ok"),
        ("offline", "unchecked"),
        (None, "unchecked"),
        ("robots", "unchecked"),
        ("invalid_url", "unfetchable"),
        ("blocked_address", "unfetchable"),
        ("http_404", "unreachable"),
        ("dns", "unreachable"),
        ("timeout", "unreachable"),
        ("http_500", "unreachable"),
    ],
)
def test_health_without_evidence_is_never_dead(fetch_status, expected):
    assert link_health(fetch_status, None, RULE) == expected
    assert health({"fetch_status": fetch_status}) == expected  # an index built before


def test_change_kinds():
    assert change_kind("unreachable", "dead") == "newly_dead"
    assert change_kind("dead", "dead") is None
    assert change_kind("dead", "ok") == "recovered"
    assert change_kind("unchecked", "ok") is None
    assert change_kind("unreachable", "unreachable") == "still_unreachable"
    assert change_kind("ok", "unreachable") == "newly_unreachable"


# ------------------------------------------------------------------------ the app


def test_only_dead_gets_a_badge_unchecked_a_quiet_word():
    dead = {"link_health": "dead", "last_ok_at": "2021-03-01T10:00:00"}
    assert "Dead link" in status_badge("en", dead) and "2021-03-01" in status_badge("en", dead)
    never = status_badge("en", {"link_health": "dead", "last_ok_at": None})
    assert "never seen alive" in never
    quiet = status_badge("en", {"link_health": "unchecked"})
    assert "not checked yet" in quiet and "rc-dead" not in quiet and "rc-badge" not in quiet
    for state in ("ok", "unreachable"):
        assert status_badge("en", {"link_health": state}) == ""
    # the bug: a build without network marked every link dead
    assert status_badge("en", {"fetch_status": "dns", "last_ok_at": None}) == ""


# ------------------------------------------------------------------------ fetching


def _nxdomain_for(monkeypatch, host: str) -> None:
    """The resolver says `host` does not exist (a real NXDOMAIN needs a real network)."""
    real = socket.getaddrinfo

    def resolve(name, *args, **kwargs):
        if name == host:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def _fetch(cache, server, urls):
    fetcher = Fetcher(cache, allow_hosts=[server.allow])
    return fetcher.fetch_all(urls), fetcher.stats


def test_fetch_records_the_evidence_of_each_check(local_server, tmp_path, monkeypatch):
    _nxdomain_for(monkeypatch, "gone.invalid")
    local_server.route("/alive", page(HTML))
    local_server.route("/gone", status(404))
    local_server.route("/removed", status(410))
    local_server.route("/busy", status(503))
    urls = [local_server.url(p) for p in ("/alive", "/gone", "/removed", "/busy")]
    urls.append("http://gone.invalid/page")
    with PageCache(tmp_path / "cache") as cache:
        _, stats = _fetch(cache, local_server, urls)
        evidence = cache.evidence(urls)
    assert stats.checked == 5
    results = {url: evidence[normalize_url(url)].result for url in urls}
    assert list(results.values()) == [ALIVE, GONE, GONE, FAILED, GONE]
    assert evidence[normalize_url(urls[0])].alive_at


def test_nxdomain_without_any_other_host_answering_is_not_evidence(tmp_path, monkeypatch):
    _nxdomain_for(monkeypatch, "gone.invalid")
    with PageCache(tmp_path / "cache") as cache:
        Fetcher(cache).fetch_all(["http://gone.invalid/page"])
        (proof,) = cache.evidence().values()
    assert proof.result == FAILED and proof.gone_checks == 0


# ------------------------------------------------------------------------ builds and CLI


def _list(tmp_path, server) -> tuple:
    data = tmp_path / "data"
    data.mkdir()
    (data / "links.md").write_text(
        "## 김철수 (2024.05.01)\n\n살아 있는 페이지\n\n"
        f"* [Alive]({server.url('/alive')})\n"
        f"* [Gone]({server.url('/gone')})\n"
        f"* [Busy]({server.url('/busy')})\n"
        "* [Not a web link](ftp://example.org/file)\n",
        encoding="utf-8",
    )
    return data, [server.url(p) for p in ("/alive", "/gone", "/busy")]


def _built(server, tmp_path, fake_settings):
    """An index of a live page, a 404 and a 503, built by fetching them once."""
    server.route("/alive", page(HTML))
    server.route("/gone", status(404))
    server.route("/busy", status(503))
    data, urls = _list(tmp_path, server)
    settings = fake_settings(allow_hosts=(server.allow,), fetch=_quick())
    Builder(settings, FakeEmbedder()).build([data])
    return data, urls, settings


def _health(index_path) -> dict[str, dict]:
    reader = IndexMetadata(index_path)
    try:
        return {row["url"]: row for row in export_rows(reader.docs)}, index_stats(reader)
    finally:
        reader.close()


def test_builds_record_link_health_and_a_second_404_a_day_later_is_dead(
    local_server, tmp_path, fake_settings
):
    data, (alive, gone, busy), settings = _built(local_server, tmp_path, fake_settings)
    rows, stats = _health(settings.index_dir)
    assert rows[alive]["link_health"] == "ok" and rows[alive]["last_ok_at"]
    assert rows[gone]["link_health"] == "unreachable"  # one 404 proves nothing yet
    assert rows[busy]["link_health"] == "unreachable"
    assert rows["ftp://example.org/file"]["link_health"] == "unfetchable"
    assert stats["link_health"] == {
        "ok": 1,
        "dead": 0,
        "unreachable": 2,
        "unchecked": 0,
        "unfetchable": 1,
    }
    # The first 404 was a day ago: this one makes it dead.
    _age_checks(settings.cache_dir, days=1.5)
    Builder(settings, FakeEmbedder()).build([data])
    rows, stats = _health(settings.index_dir)
    assert rows[gone]["link_health"] == "dead" and rows[gone]["fetch_status"] == "http_404"
    assert stats["unavailable"][0]["url"] == gone  # dead first


def test_an_offline_build_never_marks_a_link_dead(tmp_path, fake_settings, monkeypatch):
    """The bug of the issue: a machine without network, every host failing DNS."""
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: (_ for _ in ()).throw(socket.gaierror(socket.EAI_NONAME, "no")),
    )
    data = tmp_path / "data"
    data.mkdir()
    links = "".join(f"* [Page {i}](https://site{i}.example.org/p)\n" for i in range(40))
    (data / "links.md").write_text(f"## 김철수 (2024.05.01)\n\n{links}", encoding="utf-8")
    settings = fake_settings(fetch=_quick())
    Builder(settings, FakeEmbedder()).build([data])
    rows, _ = _health(settings.index_dir)
    assert {row["link_health"] for row in rows.values()} <= {"unreachable", "unchecked"}
    assert "unchecked" in {row["link_health"] for row in rows.values()}  # network given up


def _quick():
    from indexer.config import FetchLimits

    return FetchLimits(retries=0, per_host_delay=0.0, total_timeout=5.0)


def _check_links(capsys, settings, data, *extra) -> dict:
    code = main(
        [
            "check-links",
            str(data),
            "--index",
            str(settings.index_dir),
            "--cache",
            str(settings.cache_dir),
            "--allow-host",
            settings.allow_hosts[0],
            "--json",
            *extra,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def test_check_links_says_what_changed(local_server, tmp_path, fake_settings, monkeypatch, capsys):
    monkeypatch.setenv("RECALL_MODEL", FakeEmbedder.name)
    monkeypatch.setattr("indexer.build.load_embedder", lambda name: FakeEmbedder())
    monkeypatch.setenv("RECALL_FETCH_RETRIES", "0")
    monkeypatch.setenv("RECALL_FETCH_PER_HOST_DELAY", "0")
    data, (alive, gone, busy), settings = _built(local_server, tmp_path, fake_settings)

    _age_checks(settings.cache_dir, days=1.5)
    local_server.route("/busy", page(HTML))
    report = _check_links(capsys, settings, data)
    assert report["checked"] == 3
    assert [c["url"] for c in report["changes"]["newly_dead"]] == [gone]
    assert [c["url"] for c in report["changes"]["recovered"]] == [busy]
    assert report["health"]["dead"] == 1 and report["health"]["ok"] == 2

    local_server.route("/alive", status(500))
    report = _check_links(capsys, settings, data, "--since-last", "7d")
    assert report["checked"] == 0 and not any(report["changes"].values())
    report = _check_links(capsys, settings, data)
    assert [c["url"] for c in report["changes"]["newly_unreachable"]] == [alive]
    report = _check_links(capsys, settings, data)
    assert [c["url"] for c in report["changes"]["still_unreachable"]] == [alive]
