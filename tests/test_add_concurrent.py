"""Two browser sessions of the real app and the CLI adding 50 resources at once: every entry
is in the list exactly once and every resource is searchable, and the app serves the
newest index without a restart.

The app runs as `recall ui` does (tests/apprun.py), so it embeds with the real bundled
model, which a separate server process cannot be handed a FakeEmbedder for; the CLI adds
run in this process with the same model, and every page comes from a local HTTP server.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from apprun import build_index, card_titles, chrome, search, serve_app, wait_for, wait_idle
from httpserver import page
from selenium.webdriver.common.by import By

from indexer.cli import main
from indexer.config import DEFAULT_MODEL
from indexer.embed import load_embedder
from indexer.search import Searcher
from indexer.sources.files import parse_sources
from indexer.store import IndexMetadata, IndexReader
from search_ui.add_form import ADD_LIMIT
from search_ui.i18n import t

pytestmark = pytest.mark.slow

TOTAL = 50
BROWSER_ADDS = ADD_LIMIT  # each session's allowance for a minute
SEED = (
    "## 이영희 (2024.04.01)\n\n시드 자료입니다.\n\n* [Seed article](https://seed.example.org/a)\n"
)


def tag(number: int) -> str:
    """A made-up word that only resource `number` has, for searching it alone."""
    return "zq" + chr(97 + number // 10) + chr(97 + number % 10)


def _field(driver, css: str, label: str):
    return driver.find_element(By.CSS_SELECTOR, f'{css}[aria-label="{label}"]')


def _browser_adds(driver, app_url: str, numbers: list[int], url_of, extra: str) -> None:
    """Add `numbers` through the form, one after the other as a visitor would, then try
    once more, which the session's rate limit refuses."""
    driver.get(app_url)
    switch = wait_for(
        driver,
        lambda d: _field(d, "input[role=switch]", t("ko", "add_title")),
        message="no add form switch",
    )
    wait_idle(driver)
    # A click at the switch's point can land on a neighbour still being laid out.
    driver.execute_script("arguments[0].click()", switch)
    for number in [*numbers, None]:
        url = extra if number is None else url_of(number)
        box = wait_for(driver, lambda d: _field(d, "input", t("ko", "add_url")))
        wait_for(driver, lambda d, box=box: box.get_attribute("value") == "", 30, "not cleared")
        box.send_keys(url)
        note = f"브라우저 메모 {tag(number)}" if number is not None else "브라우저 메모"
        _field(driver, "textarea", t("ko", "add_note")).send_keys(note)
        _field(driver, "input", t("ko", "add_name")).send_keys("브라우저")
        driver.find_element(By.CSS_SELECTOR, '[data-testid="stFormSubmitButton"] button').click()
        if number is not None:
            wait_for(
                driver,
                lambda d, url=url: d.find_elements(By.CSS_SELECTOR, f'.rc-url a[href="{url}"]'),
                120,
                f"{url} was not added",
            )
    refused = t("ko", "add_rate", limit=ADD_LIMIT, seconds=0).split(".")[0]
    wait_for(driver, lambda d: refused in d.find_element(By.TAG_NAME, "body").text, 60)


def _cli_adds(data: Path, index: Path, allow: str, numbers: list[int], url_of) -> list[int]:
    codes = []
    for number in numbers:
        argv = ["--data", str(data), "add", url_of(number), "--note", f"명령줄 메모 {tag(number)}"]
        argv += ["--by", "명령줄", "--index", str(index), "--allow-host", allow]
        codes.append(main(argv))
    return codes


def test_two_sessions_and_the_cli_add_50_resources_at_once(tmp_path, monkeypatch, local_server):
    data = tmp_path / "data"
    data.mkdir()
    (data / "seed.md").write_text(SEED, encoding="utf-8")
    for number in range(TOTAL + 1):
        title = f"Concurrent page {tag(number)}".encode()
        local_server.route(f"/r{number}", page(b"<title>%s</title><p>%s</p>" % (title, title)))

    def url_of(number: int) -> str:
        return local_server.url(f"/r{number}")

    cache = tmp_path / "cache"
    for name, value in (("RECALL_DATA", data), ("RECALL_CACHE", cache)):
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("RECALL_ALLOW_HOSTS", local_server.allow)
    index = build_index([data], tmp_path / "index", cache)
    shares = [list(range(0, 5)), list(range(5, 10))]  # the two sessions
    cli_shares = [list(range(10, 30)), list(range(30, TOTAL))]
    assert len(shares[0]) == BROWSER_ADDS and sum(map(len, shares + cli_shares)) == TOTAL
    extra = url_of(TOTAL)  # each session's sixth try, refused

    with (
        serve_app(index, tmp_path / "streamlit.log") as app_url,
        chrome(tmp_path / "one") as first,
        chrome(tmp_path / "two") as second,
        ThreadPoolExecutor(4) as pool,
    ):
        browsers = [
            pool.submit(_browser_adds, driver, app_url, share, url_of, extra)
            for driver, share in zip((first, second), shares, strict=True)
        ]
        clis = [
            pool.submit(_cli_adds, data, index, local_server.allow, share, url_of)
            for share in cli_shares
        ]
        for future in browsers:
            future.result()
        assert [future.result() for future in clis] == [[0] * len(s) for s in cli_shares]

        # The app serves the index the last add published: a CLI resource, found in it.
        wait_idle(first)
        search(first, tag(TOTAL - 1))
        wanted = f"Concurrent page {tag(TOTAL - 1)}"
        wait_for(first, lambda d: wanted in card_titles(d)[:1], 60, "not served")

    listed = (data / "added.md").read_text(encoding="utf-8")
    assert listed.count("\n## ") + listed.startswith("## ") == TOTAL
    added = [r for r in parse_sources([data]).resources if r.url != "https://seed.example.org/a"]
    assert sorted(r.url for r in added) == sorted(url_of(n) for n in range(TOTAL))
    assert all(len(r.mentions) == 1 for r in added)  # none lost, none doubled

    metadata = IndexMetadata(index)
    served = {d["url"]: d for d in metadata.docs if d["kind"] == "resource"}
    metadata.close()
    assert set(served) == {url_of(n) for n in range(TOTAL)} | {"https://seed.example.org/a"}
    searcher = Searcher(IndexReader(index), load_embedder(DEFAULT_MODEL))
    for number in range(TOTAL):
        doc = served[url_of(number)]
        # Each is searchable by its note; a page fetched under this load also gave its title.
        assert doc["fetch_status"] != "ok" or tag(number) in doc["title"], doc
        top = searcher.search(tag(number), k=3).results[0]
        assert top.url == url_of(number), (doc["fetch_status"], doc["title"], top.title)
