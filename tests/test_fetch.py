"""The fetcher against a real HTTP server on 127.0.0.1: statuses, limits, cache, safety."""

from __future__ import annotations

import gzip
import json
import logging
import socket
import threading
import time
import zlib
from dataclasses import replace

import pytest
from httpserver import LocalServer, fixture_bytes, page, redirect, send, sequence, status

from indexer.cli import main
from indexer.config import FetchLimits
from indexer.fetch import Fetcher
from indexer.pagecache import PageCache, PageRecord
from indexer.resources import normalize_url

FAST = FetchLimits(
    concurrency=4,
    per_host=4,
    per_host_delay=0.0,
    connect_timeout=2.0,
    total_timeout=3.0,
    retries=1,
    backoff=0.01,
    max_retry_after=5.0,
    max_bytes=200_000,
)


def fetch(server: LocalServer, cache_dir, urls, limits=FAST, **options):
    """One fetch_all over a cache opened for it; returns (records, stats)."""
    options.setdefault("allow_hosts", [server.allow])
    with PageCache(cache_dir) as cache:
        fetcher = Fetcher(cache, limits, **options)
        records = fetcher.fetch_all(urls)
    return records, fetcher.stats


def record_for(records: dict[str, PageRecord], url: str) -> PageRecord:
    return records[normalize_url(url)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------ what pages say


def test_fixture_pages_are_fetched_and_extracted(local_server, tmp_path):
    urls = {
        name: local_server.url("/" + name)
        for name in ("article.html", "korean-euckr.html", "paper.pdf", "notes.md", "video.html")
    }
    records, stats = fetch(local_server, tmp_path, urls.values())

    assert {r.status for r in records.values()} == {"ok"}
    assert stats.statuses == {"ok": 5}

    article = record_for(records, urls["article.html"])
    assert "divides the scores by the square root" in article.text
    assert "Subscribe to our newsletter" not in article.text  # navigation
    assert "All rights reserved" not in article.text  # footer
    assert article.title == "Understanding Attention"
    assert article.language == "en"
    assert article.http_status == 200
    assert article.last_ok_at == article.fetched_at
    assert article.body_hash and article.last_modified  # SimpleHTTPRequestHandler validator

    korean = record_for(records, urls["korean-euckr.html"])
    assert "케라스 코리아 오픈채팅방에서 공유된 딥러닝 자료" in korean.text
    assert korean.title == "딥러닝 공부 자료"

    pdf = record_for(records, urls["paper.pdf"])
    assert pdf.kind == "pdf"
    assert "relies entirely on self-attention" in pdf.text
    assert "positional encodings" in pdf.text  # second page
    assert pdf.title == "Attention Revisited"

    notes = record_for(records, urls["notes.md"])
    assert notes.text == fixture_bytes("notes.md").decode()
    assert notes.title == "Reading notes on optimisers"

    video = record_for(records, urls["video.html"])
    assert video.title == "케라스로 배우는 딥러닝 - 1강"
    assert "신경망의 기초부터 실습까지" in video.text


def test_gzip_and_deflate_bodies_are_decoded(local_server, tmp_path):
    article = fixture_bytes("article.html")
    local_server.route("/gz", page(gzip.compress(article), Content_Encoding="gzip"))
    local_server.route("/deflate", page(zlib.compress(article), Content_Encoding="deflate"))
    records, _ = fetch(
        local_server, tmp_path, [local_server.url("/gz"), local_server.url("/deflate")]
    )
    for url in ("/gz", "/deflate"):
        record = record_for(records, local_server.url(url))
        assert record.status == "ok"
        assert "Multi-head attention runs several attention functions" in record.text


# ------------------------------------------------------------ HTTP outcomes


def test_redirect_chain_is_followed_and_loop_is_stopped(local_server, tmp_path):
    local_server.route("/r1", redirect("/r2", 301))
    local_server.route("/r2", redirect(local_server.url("/r3"), 307))
    local_server.route("/r3", redirect("article.html", 308))
    local_server.route("/loop-a", redirect("/loop-b"))
    local_server.route("/loop-b", redirect("/loop-a"))
    records, stats = fetch(
        local_server, tmp_path, [local_server.url("/r1"), local_server.url("/loop-a")]
    )

    chain = record_for(records, local_server.url("/r1"))
    assert chain.status == "ok"
    assert chain.final_url == local_server.url("/article.html")
    assert "Understanding Attention" in chain.text

    loop = record_for(records, local_server.url("/loop-a"))
    assert loop.status == "too_many_redirects"
    assert len(local_server.hits("/loop-a")) + len(local_server.hits("/loop-b")) == 6
    assert stats.requests == 4 + 6


def test_http_errors_become_statuses_and_only_server_errors_are_retried(local_server, tmp_path):
    local_server.route("/broken", status(500))
    records, stats = fetch(
        local_server, tmp_path, [local_server.url("/missing.html"), local_server.url("/broken")]
    )
    missing = record_for(records, local_server.url("/missing.html"))
    broken = record_for(records, local_server.url("/broken"))
    assert (missing.status, missing.http_status, missing.text) == ("http_404", 404, "")
    assert (broken.status, broken.http_status) == ("http_500", 500)
    assert len(local_server.hits("/missing.html")) == 1
    assert len(local_server.hits("/broken")) == 1 + FAST.retries
    assert stats.retries == FAST.retries


def test_server_error_then_success_is_retried(local_server, tmp_path):
    local_server.route("/flaky", sequence(status(503), page(fixture_bytes("article.html"))))
    records, stats = fetch(local_server, tmp_path, [local_server.url("/flaky")])
    assert record_for(records, local_server.url("/flaky")).status == "ok"
    assert stats.retries == 1
    assert len(local_server.hits("/flaky")) == 2


def test_retry_after_is_honoured(local_server, tmp_path):
    local_server.route(
        "/busy", sequence(status(429, Retry_After="1"), page(fixture_bytes("article.html")))
    )
    records, _ = fetch(local_server, tmp_path, [local_server.url("/busy")])
    assert record_for(records, local_server.url("/busy")).status == "ok"
    first, second = local_server.hits("/busy")
    assert second.at - first.at >= 0.9  # Retry-After: 1, not the 0.01 s backoff


def test_retry_after_longer_than_allowed_is_not_waited_for(local_server, tmp_path):
    local_server.route("/later", status(503, Retry_After="3600"))
    records, stats = fetch(local_server, tmp_path, [local_server.url("/later")])
    assert record_for(records, local_server.url("/later")).status == "http_503"
    assert stats.retries == 0


def test_unsupported_type_is_not_downloaded(local_server, tmp_path):
    local_server.route("/photo", page(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png"))
    records, _ = fetch(local_server, tmp_path, [local_server.url("/photo")])
    record = record_for(records, local_server.url("/photo"))
    assert record.status == "unsupported_type"
    assert "image/png" in record.error


def test_invalid_urls_get_a_status_without_network(local_server, tmp_path):
    urls = ["javascript:alert(1)", "https://example.com/trunc…", "file:///etc/passwd"]
    records, stats = fetch(local_server, tmp_path, urls)
    assert [records[normalize_url(u)].status for u in urls] == ["invalid_url"] * 3
    assert stats.requests == 0 and stats.robots_requests == 0


def test_unresolvable_host_is_a_dns_status(local_server, tmp_path):
    records, _ = fetch(local_server, tmp_path, ["http://no-such-host.invalid/page"])
    assert records["http://no-such-host.invalid/page"].status == "dns"


# ------------------------------------------------------------ hostile servers


def _drip(handler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/plain")
    handler.end_headers()
    for _ in range(100):  # 20 seconds of one byte every 0.2 s
        handler.wfile.write(b"x")
        handler.wfile.flush()
        time.sleep(0.2)


def _endless_chunks(handler) -> None:
    handler.protocol_version = "HTTP/1.1"
    handler.send_response(200)
    handler.send_header("Content-Type", "text/plain")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    chunk = b"y" * 16_384
    while True:
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))


def _slow_headers(handler) -> None:
    time.sleep(3)
    send(handler, 200, b"too late")


@pytest.mark.timeout(30)
def test_hostile_servers_end_in_bounded_time_with_a_status(local_server, tmp_path):
    bomb = gzip.compress(b"\0" * 50_000_000)  # 50 MB decoded, ~50 kB on the wire
    local_server.route("/bomb", page(bomb, "text/plain", Content_Encoding="gzip"))
    local_server.route("/endless", _endless_chunks)
    local_server.route("/drip", _drip)
    local_server.route("/slow", _slow_headers)
    local_server.route("/big", page(b"z" * 300_000, "text/plain"))
    limits = replace(FAST, total_timeout=1.0, retries=0)
    paths = ["/bomb", "/endless", "/drip", "/slow", "/big"]
    records, _ = fetch(local_server, tmp_path, [local_server.url(p) for p in paths], limits)
    statuses = {p: record_for(records, local_server.url(p)).status for p in paths}
    assert statuses == {
        "/bomb": "too_large",
        "/endless": "too_large",
        # One byte every 0.2 s never trips a per-read timeout: only a wall-clock
        # deadline ends it.
        "/drip": "timeout",
        "/slow": "timeout",
        "/big": "too_large",
    }


# ------------------------------------------------------------ politeness


def test_robots_txt_is_respected_and_fetched_once_per_host(local_server, tmp_path):
    urls = [
        local_server.url("/private/secret.html"),
        local_server.url("/article.html"),
        local_server.url("/notes.md"),
    ]
    records, stats = fetch(local_server, tmp_path, urls)
    secret = record_for(records, urls[0])
    assert secret.status == "robots"
    assert "/private/secret.html" not in local_server.paths()
    assert local_server.paths().count("/robots.txt") == 1
    assert stats.robots_requests == 1
    assert record_for(records, urls[1]).status == "ok"
    user_agent = local_server.hits("/article.html")[0].headers["user-agent"]
    assert user_agent.startswith("Recall/")


def test_per_host_concurrency_and_delay(local_server, tmp_path):
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def slow_page(handler) -> None:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.2)
        with lock:
            in_flight -= 1
        send(handler, 200, b"<html><body><p>patience</p></body></html>")

    for n in range(6):
        local_server.route(f"/p{n}", slow_page)
    limits = replace(FAST, concurrency=8, per_host=2, per_host_delay=0.1)
    records, _ = fetch(
        local_server, tmp_path, [local_server.url(f"/p{n}") for n in range(6)], limits
    )
    assert {r.status for r in records.values()} == {"ok"}
    assert peak == 2
    starts = sorted(r.at for r in local_server.requests if r.path.startswith("/p"))
    # 0.1 s between starts. Two slots are free at first, so only the pacing parts the first
    # two; later ones wait for a slot too, and the server sees them with its own jitter.
    assert starts[1] - starts[0] >= 0.08
    assert starts[-1] - starts[0] >= 0.09 * (len(starts) - 1)


def test_the_robots_request_does_not_delay_the_first_page(local_server, tmp_path):
    limits = replace(FAST, per_host_delay=5.0)  # between pages, not after robots.txt
    records, stats = fetch(local_server, tmp_path, [local_server.url("/article.html")], limits)
    assert record_for(records, local_server.url("/article.html")).status == "ok"
    assert stats.robots_requests == 1
    robots, page = sorted(local_server.requests, key=lambda r: r.at)[:2]
    assert robots.path == "/robots.txt" and page.path == "/article.html"
    assert page.at - robots.at < 1.0


# ------------------------------------------------------------ address safety


def test_private_address_is_refused_by_default(local_server, tmp_path):
    records, stats = fetch(
        local_server, tmp_path, [local_server.url("/article.html")], allow_hosts=[]
    )
    record = record_for(records, local_server.url("/article.html"))
    assert record.status == "blocked_address"
    assert "--allow-host" in record.error
    assert local_server.requests == []  # not even robots.txt reached the server
    assert stats.statuses == {"blocked_address": 1}


def test_redirect_out_of_an_allowed_host_is_blocked(local_server, tmp_path):
    with LocalServer() as internal:
        local_server.route("/to-internal", redirect(internal.url("/article.html")))
        local_server.route("/to-metadata", redirect("http://169.254.169.254/latest/meta-data/"))
        local_server.route("/to-localhost", redirect(f"http://localhost:{local_server.port}/"))
        paths = ["/to-internal", "/to-metadata", "/to-localhost"]
        records, _ = fetch(local_server, tmp_path, [local_server.url(p) for p in paths])
        assert internal.requests == []
    for path in paths:
        assert record_for(records, local_server.url(path)).status == "blocked_address"
    metadata = record_for(records, local_server.url("/to-metadata"))
    assert metadata.final_url == "http://169.254.169.254/latest/meta-data/"


# ------------------------------------------------------------ the cache


def test_second_run_makes_only_conditional_requests(local_server, tmp_path):
    body = fixture_bytes("article.html")

    def etag_page(handler) -> None:
        if handler.headers.get("If-None-Match") == '"v1"':
            handler.send_response(304)
            handler.send_header("ETag", '"v1"')
            handler.end_headers()
        else:
            send(handler, 200, body, headers={"ETag": '"v1"'})

    local_server.route("/etag", etag_page)
    urls = [local_server.url("/etag"), local_server.url("/paper.pdf")]
    first, first_stats = fetch(local_server, tmp_path, urls)
    second, stats = fetch(local_server, tmp_path, urls)

    assert first_stats.conditional == 0
    assert stats.requests == stats.conditional == 2
    assert stats.statuses == {"not_modified": 2}
    for url in urls:
        before, after = record_for(first, url), record_for(second, url)
        assert after.text == before.text and after.text
        assert after.body_hash == before.body_hash
        assert after.last_ok_at == after.fetched_at >= before.fetched_at
    assert local_server.hits("/etag")[-1].headers["if-none-match"] == '"v1"'
    assert "if-modified-since" in local_server.hits("/paper.pdf")[-1].headers


def test_link_rot_keeps_the_last_good_text(local_server, tmp_path):
    local_server.route("/rot", page(fixture_bytes("article.html")))
    url = local_server.url("/rot")
    alive, _ = fetch(local_server, tmp_path, [url])
    local_server.route("/rot", status(404))
    dead, _ = fetch(local_server, tmp_path, [url])

    before, after = record_for(alive, url), record_for(dead, url)
    assert after.status == "http_404"
    assert after.text == before.text and "Understanding Attention" in after.text
    assert after.title == before.title
    assert after.last_ok_at == before.fetched_at
    assert after.fetched_at > before.fetched_at
    with PageCache(tmp_path) as cache:
        assert cache.get(url).status == "http_404"
        assert cache.get(url).text == before.text


def test_unreachable_server_keeps_the_last_good_text(tmp_path):
    with LocalServer() as server:
        url = server.url("/article.html")
        alive, _ = fetch(server, tmp_path, [url])
    dead, _ = fetch(server, tmp_path, [url], replace(FAST, retries=0))
    record = record_for(dead, url)
    assert record.status == "refused"
    assert record.text == record_for(alive, url).text
    assert record.last_ok_at == record_for(alive, url).last_ok_at


def test_offline_mode_uses_only_the_cache(local_server, tmp_path):
    cached_url = local_server.url("/article.html")
    fetch(local_server, tmp_path, [cached_url])
    seen = len(local_server.requests)
    uncached_url = local_server.url("/notes.md")
    records, stats = fetch(local_server, tmp_path, [cached_url, uncached_url], offline=True)
    assert len(local_server.requests) == seen
    assert record_for(records, cached_url).status == "ok"
    assert "Understanding Attention" in record_for(records, cached_url).text
    assert record_for(records, uncached_url).status == "offline"
    assert stats.from_cache == 1


def test_max_age_skips_recently_fetched_pages(local_server, tmp_path):
    url = local_server.url("/article.html")
    fetch(local_server, tmp_path, [url])
    seen = len(local_server.requests)
    records, stats = fetch(local_server, tmp_path, [url], max_age_seconds=3600)
    assert len(local_server.requests) == seen
    assert record_for(records, url).status == "ok"
    assert stats.from_cache == 1
    fetch(local_server, tmp_path, [url], max_age_seconds=0)
    assert len(local_server.requests) > seen


def test_unavailable_network_is_detected_once_and_the_cache_used(local_server, tmp_path, caplog):
    port = closed_port()
    urls = [f"http://127.0.0.1:{port}/page{n}" for n in range(6)]
    with PageCache(tmp_path) as cache:
        cache.put(PageRecord(urls[5], "ok", text="what page five said", last_ok_at="2024-01-01"))
    limits = replace(FAST, concurrency=1, retries=0, offline_after_failures=3)
    with caplog.at_level(logging.WARNING, logger="indexer.fetch"):
        records, stats = fetch(
            local_server, tmp_path, urls, limits, allow_hosts=[f"127.0.0.1:{port}"]
        )
    assert [records[u].status for u in urls] == ["refused"] * 3 + ["offline"] * 2 + ["ok"]
    assert records[urls[5]].text == "what page five said"
    assert stats.network_down
    warnings = [r for r in caplog.records if "network looks unavailable" in r.getMessage()]
    assert len(warnings) == 1


# ------------------------------------------------------------ the command line


def write_list(directory, server: LocalServer) -> None:
    base = server.url("")
    directory.mkdir(exist_ok=True)
    (directory / "list.md").write_text(
        f"""## 홍길동 (2019.03.21)

* [Understanding Attention]({base}/article.html)
* {base}/paper.pdf
* [논문]({base}/korean-euckr.html)
* [missing]({base}/missing.html)
* [broken](javascript:void(0))
""",
        encoding="utf-8",
    )


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("RECALL_ALLOW_HOSTS", "RECALL_CACHE", "RECALL_DATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECALL_FETCH_PER_HOST_DELAY", "0")
    return monkeypatch


def test_cli_fetch_json(local_server, tmp_path, capsys, clean_env):
    write_list(tmp_path / "lists", local_server)
    argv = ["--data", str(tmp_path / "lists"), "fetch", "--cache", str(tmp_path / "cache")]
    code = main([*argv, "--allow-host", local_server.allow, "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"http_404": 1, "invalid_url": 1, "ok": 3}
    rows = {row["url"].rsplit("/", 1)[-1]: row for row in out["resources"]}
    assert rows["article.html"]["title"] == "Understanding Attention"  # the list's own title
    assert rows["paper.pdf"]["title"] == "Attention Revisited"  # placeholder: the page's
    assert rows["korean-euckr.html"]["title"] == "딥러닝 공부 자료"  # "논문" is generic
    assert rows["korean-euckr.html"]["text_length"] > 100
    assert rows["missing.html"]["status"] == "http_404"
    assert rows["missing.html"]["final_url"] == local_server.url("/missing.html")
    assert rows["javascript:void(0)"]["status"] == "invalid_url"
    assert out["stats"]["requests"] == 4

    assert main([*argv, "--allow-host", local_server.allow, "--max-age", "1h"]) == 0
    assert "ok                   3" in capsys.readouterr().out
    pages_requested = [r for r in local_server.requests if r.path != "/robots.txt"]
    assert len(pages_requested) == 4  # --max-age: the second run asked nothing


def test_cli_fetch_reads_allowed_hosts_and_cache_from_the_environment(
    local_server, tmp_path, capsys, clean_env
):
    write_list(tmp_path / "lists", local_server)
    clean_env.setenv("RECALL_ALLOW_HOSTS", f"example.org, {local_server.allow}")
    clean_env.setenv("RECALL_CACHE", str(tmp_path / "env-cache"))
    assert main(["--data", str(tmp_path / "lists"), "fetch", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"]["ok"] == 3
    assert (tmp_path / "env-cache" / "pages.sqlite").exists()


def test_cli_fetch_rejects_a_bad_duration_and_a_missing_archive(tmp_path, capsys, clean_env):
    lists = tmp_path / "lists"
    lists.mkdir()
    base = ["--data", str(lists), "fetch", "--cache", str(tmp_path / "cache")]
    assert main([*base, "--max-age", "soon"]) == 2
    assert "not a duration" in capsys.readouterr().err
    assert main([*base, "--import-warc", str(tmp_path / "none.warc")]) == 2
    assert "no such WARC file" in capsys.readouterr().err
