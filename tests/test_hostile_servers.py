"""Hostile servers through a whole build: every page ends with a recorded status within
the configured limits, and the build goes on to publish the pages that behaved.

test_fetch.py checks the fetcher's statuses one limit at a time; here one list links
every kind of hostile page at once, so a page that hangs or blows up would hold up or
break the build around it. No wall-clock asserts: each limit is set small and the
status it produces is what is checked (bench/chaos.py measures the times and memory).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from fakes import FakeEmbedder
from httpserver import (
    LocalServer,
    deep_html,
    drip,
    endless,
    gzip_bomb,
    page,
    pdf_document,
    redirect,
    streamed,
    text_page,
)

from indexer.build import Builder, fetch_pages
from indexer.config import FetchLimits, load_settings
from indexer.pagecache import PageCache
from indexer.search import Searcher
from indexer.store import IndexReader

LIMITS = replace(
    FetchLimits(),
    concurrency=16,
    per_host=16,
    per_host_delay=0.0,
    # Long enough that a 50 MB page on a busy machine is cut for its size, not its time
    # (1.5 s once ended one as "timeout" in a full run); the drip still times out.
    total_timeout=4.0,
    retries=0,
    max_bytes=2_000_000,
    max_pdf_pages=40,
    max_pdf_content_bytes=200_000,
    max_html_chars=200_000,
)
MB = 1_000_000
GOOD = b"""<html><head><title>Okapi BM25 explained</title></head><body><article>
<h1>Okapi BM25 explained</h1><p>Term frequency saturation and document length
normalisation are the two ideas behind Okapi BM25, the ranking function of most search
engines.</p><p>This page behaves: it answers at once with well formed markup.</p>
</article></body></html>"""
INVALID_UTF8 = (
    b"<html><body><p>Readable words around broken bytes \xff\xfe\xc3\x28 and "
    b"\xed\xa0\x80 lone surrogate bytes, declared as UTF-8.</p></body></html>"
)


def hostile_routes(server: LocalServer, internal: LocalServer) -> dict[str, str]:
    """Route every hostile page on `server`; returns path -> the status it must end with."""
    port = internal.port
    routes = {
        "/good.html": (page(GOOD), "ok"),
        "/huge-declared.html": (streamed(50 * MB, declare_length=True), "too_large"),
        "/huge-streamed.html": (streamed(50 * MB, declare_length=False), "too_large"),
        "/gzip-bomb.html": (page(gzip_bomb(50 * MB), Content_Encoding="gzip"), "too_large"),
        "/endless.html": (endless(), "too_large"),
        "/one-byte-a-second.html": (drip(interval=1.0), "timeout"),
        "/invalid-utf8.html": (page(INVALID_UTF8), "ok"),
        "/deep.html": (page(deep_html(100_000, closed=False, marker="bottom")), "ok"),
        "/huge-markup.html": (page(b"<p>markup word</p>" * 80_000), "ok"),
        "/malformed.pdf": (page(b"%PDF-1.7\n1 0 obj << /Kids [", "application/pdf"), "ok"),
        "/book.pdf": (
            page(pdf_document([text_page(f"Page{n}") for n in range(3000)]), "application/pdf"),
            "ok",
        ),
        "/inflating.pdf": (
            page(
                pdf_document([text_page("spam " * 50) * 5000], compress=True, forms=3),
                "application/pdf",
            ),
            "ok",
        ),
        "/to-loopback": (redirect(internal.url("/article.html")), "blocked_address"),
        "/to-metadata": (redirect("http://169.254.169.254/latest/meta-data/"), "blocked_address"),
        "/to-decimal-ip": (redirect(f"http://2130706433:{port}/article.html"), "blocked_address"),
        "/to-mapped-v6": (redirect(f"http://[::ffff:127.0.0.1]:{port}/"), "blocked_address"),
        "/to-zero": (redirect(f"http://0.0.0.0:{port}/article.html"), "blocked_address"),
    }
    for path, (route, _) in routes.items():
        server.route(path, route)
    return {path: expected for path, (_, expected) in routes.items()}


def build(server: LocalServer, tmp_path, paths, limits: FetchLimits = LIMITS):
    lines = ["## Mallory (2024.01.02)", ""]
    lines += [f"* [{path.strip('/')}]({server.url(path)})" for path in paths]
    source = tmp_path / "hostile.md"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = load_settings(
        env={},
        index_dir=tmp_path / "index",
        cache_dir=tmp_path / "cache",
        model=FakeEmbedder.name,
        allow_hosts=(server.allow,),
        fetch=limits,
    )
    report = Builder(settings, FakeEmbedder()).build([source], fetch=fetch_pages)
    return settings, report


@pytest.mark.timeout(120)
def test_every_hostile_page_ends_with_a_status_and_the_build_publishes(local_server, tmp_path):
    with LocalServer() as internal:
        expected = hostile_routes(local_server, internal)
        settings, report = build(local_server, tmp_path, list(expected))
        assert internal.requests == []  # no redirect reached the internal server
    reader = IndexReader(settings.index_dir)
    assert reader.build_id == report.build_id
    status = {doc["url"].split("/", 3)[-1]: doc for doc in reader.docs}
    assert {f"/{path}": doc["fetch_status"] for path, doc in status.items()} == expected

    def text(path: str) -> str:
        return reader.page_text(status[path.lstrip("/")]["id"])

    assert "Readable words around broken bytes" in text("/invalid-utf8.html")
    assert "bottom" in text("/deep.html")
    assert text("/huge-markup.html").startswith("markup word markup word")
    book = text("/book.pdf")
    assert "Page0" in book and "Page39" in book and "Page40" not in book
    assert text("/malformed.pdf") == "" and text("/inflating.pdf") == ""
    with PageCache(settings.cache_dir) as cache:
        record = {path: cache.get(local_server.url(path)) for path in expected}
        assert "tag strip" in record["/huge-markup.html"].error
        assert record["/malformed.pdf"].error.startswith("malformed PDF")
        assert "stopped at page 1" in record["/inflating.pdf"].error
        timed_out = f"no complete answer within {LIMITS.total_timeout} s"
        assert record["/one-byte-a-second.html"].error == timed_out
        for path, outcome in expected.items():
            stored = cache.response(local_server.url(path))
            assert (stored is not None) == (outcome == "ok"), path
            assert stored is None or len(stored.body) <= LIMITS.max_bytes
            assert len(record[path].text) <= LIMITS.max_text_chars

    searcher = Searcher(reader, FakeEmbedder(), settings)
    top = searcher.search("term frequency saturation and document length normalisation", k=1)
    assert top.results[0].url == local_server.url("/good.html")
    reader.close()


@pytest.mark.parametrize(
    "robots",
    [endless("text/plain"), drip(interval=1.0), page(gzip_bomb(10 * MB), "text/plain")],
    ids=["endless", "drip", "gzip-bomb"],
)
@pytest.mark.timeout(60)
def test_a_hostile_robots_txt_does_not_stop_the_pages(local_server, tmp_path, robots):
    local_server.route("/robots.txt", robots)
    local_server.route("/good.html", page(GOOD))
    settings, report = build(local_server, tmp_path, ["/good.html", "/article.html"])
    assert report.fetch_counts == {"ok": 2}
    assert len(local_server.hits("/robots.txt")) == 1  # asked once, then given up on
    with PageCache(settings.cache_dir) as cache:
        assert "Okapi BM25" in cache.get(local_server.url("/good.html")).text


def test_a_huge_page_under_the_size_limit_is_cut_to_the_text_limit(local_server, tmp_path):
    limits = replace(LIMITS, max_html_chars=1_000, max_text_chars=5_000)
    local_server.route("/wall.html", page(b"<p>" + b"wall of text " * 100_000 + b"</p>"))
    settings, report = build(local_server, tmp_path, ["/wall.html"], limits)
    assert report.fetch_counts == {"ok": 1}
    with PageCache(settings.cache_dir) as cache:
        assert len(cache.get(local_server.url("/wall.html")).text) == 5_000


# ------------------------------------------------------------ what a hostile page shows

# A page whose title, description and text carry markup, scripts, javascript: links and
# direction overrides, all as text (entities) so that they survive extraction.
XSS_PAGE = """<html><head>
<title>&lt;script&gt;alert("page-title")&lt;/script&gt; LSTM \u202etxt.exe 페이지</title>
<meta property="og:description" content="&lt;img src=x onerror=alert(&quot;desc&quot;)&gt;
 [설명](javascript:alert('desc-md')) zero\u200bwidth">
</head><body><article>
<h1>&lt;script&gt;alert("page-title")&lt;/script&gt; LSTM \u202etxt.exe 페이지</h1>
<p>&lt;script&gt;alert("page-text")&lt;/script&gt; 본문입니다. 시계열 예측을 LSTM으로 합니다.</p>
<p>[클릭](javascript:alert("page-md")) &lt;img src=x onerror=alert("page-img")&gt;
&lt;a href="javascript:alert('page-a')"&gt;link&lt;/a&gt; \u202egnp.exe zero\u200bwidth</p>
<p>&lt;iframe src="javascript:alert('frame')"&gt;&lt;/iframe&gt;
&lt;style&gt;body{display:none}&lt;/style&gt;</p>
</article></body></html>""".encode()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_hostile_pages_title_description_and_text_stay_inert_in_the_browser(
    local_server, tmp_path
):
    from urllib.parse import quote

    from apprun import build_index, chrome, serve_app, wait_for, wait_idle
    from test_browser import _DOM_REPORT

    from indexer.fetch import Fetcher

    local_server.route("/xss.html", page(XSS_PAGE))
    url = local_server.url("/xss.html")
    with PageCache(tmp_path / "cache") as cache:  # the page, fetched as a build would
        assert Fetcher(cache, LIMITS, allow_hosts=[local_server.allow]).fetch_all([url])
    source = tmp_path / "list.md"
    source.write_text(f"## 공격자 (2024.01.02)\n\n* [링크]({url}): 메모\n", encoding="utf-8")
    index = build_index([source], tmp_path / "index", tmp_path / "cache")
    reader = IndexReader(index)
    doc = reader.docs[0]
    assert 'alert("page-title")' in doc["title"] and "page-text" in reader.page_text(doc["id"])
    reader.close()

    with serve_app(index, tmp_path / "streamlit.log") as app, chrome(tmp_path / "p") as driver:
        driver.get(f"{app}/?id={quote(url, safe='')}")
        wait_for(driver, lambda d: d.find_elements("css selector", ".rc-page-title"), 180)
        expanders = driver.find_elements("css selector", '[data-testid="stExpander"] summary')
        expanders[-1].click()  # the extracted page text
        wait_for(driver, lambda d: 'alert("page-text")' in d.find_element("tag name", "body").text)
        wait_idle(driver)
        report = driver.execute_script(_DOM_REPORT)
    assert report["alerts"] == []
    assert report["eventAttributes"] == []
    assert report["appScripts"] == 0 and report["dataImages"] == 0
    assert not [h for h in report["hrefs"] if h.strip().lower().startswith("javascript:")]
    for shown in ('alert("page-title")', 'alert("desc")', 'alert("page-md")', "gnp.exe"):
        assert shown in report["text"]  # there, as text
    assert "\u202e" not in report["text"] and "\u200b" not in report["text"]
