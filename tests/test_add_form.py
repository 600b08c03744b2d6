"""The app's "자료 추가 / Add a resource" form in-process (AppTest), with FakeEmbedder: it
adds through indexer.add like `recall add`, is offered only where it should be, limits
each session's tries, and keeps hostile input literal in the list and inert in the page."""

from __future__ import annotations

import html
import re

import pytest
from apprun import APP
from fakes import FakeEmbedder
from httpserver import page
from streamlit import config
from streamlit.testing.v1 import AppTest

from indexer.build import Builder
from indexer.config import load_settings
from indexer.sources.files import parse_sources
from indexer.store import read_manifest
from search_ui.add_form import ADD_LIMIT, ADD_WINDOW_SECONDS, access, admit
from search_ui.i18n import t

SEED = (
    "## 이영희 (2024.04.01)\n\n시드 자료입니다.\n\n* [Seed article](https://seed.example.org/a)\n"
)
PAGE = (
    b"<html><head><title>Gradient checkpointing explained</title></head><body><article><p>"
    b"Gradient checkpointing trades compute for memory: activations are recomputed in the "
    b"backward pass.</p></article></body></html>"
)


@pytest.fixture
def site(tmp_path, monkeypatch, local_server):
    """A served FakeEmbedder index of one list, the app's paths in RECALL_*, and a page on
    the local server that adds may fetch."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "seed.md").write_text(SEED, encoding="utf-8")
    embedder = FakeEmbedder()
    for module in ("indexer.build", "indexer.search"):
        monkeypatch.setattr(f"{module}.load_embedder", lambda name: embedder)
    env = {
        "RECALL_DATA": str(data),
        "RECALL_INDEX": str(tmp_path / "index"),
        "RECALL_CACHE": str(tmp_path / "cache"),
        "RECALL_MODEL": FakeEmbedder.name,
        "RECALL_ALLOW_HOSTS": local_server.allow,
        "HF_HUB_OFFLINE": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RECALL_ADD_TOKEN", raising=False)
    settings = load_settings()
    Builder(settings, embedder).build([data], offline=True)
    local_server.route("/ckpt", page(PAGE))
    return settings


@pytest.fixture
def listening():
    """Set the Streamlit server address the app believes it listens on."""
    before = config.get_option("server.address")
    yield lambda address: config.set_option("server.address", address)
    config.set_option("server.address", before)


def run_app(lang: str = "ko") -> AppTest:
    """The app with the add form's switch turned on, when the form is offered."""
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params["lang"] = lang
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    assert "add_url" not in [w.key for w in app.text_input]  # drawn only when asked for
    if "add_form_on" in [w.key for w in app.toggle]:
        app.toggle(key="add_form_on").set_value(True).run()
    return app


def submit(app: AppTest, url: str, note: str = "", name: str = "", token: str | None = None):
    app.text_input(key="add_url").input(url)
    app.text_area(key="add_note").input(note)
    app.text_input(key="add_name").input(name)
    if token is not None:
        app.text_input(key="add_token").input(token)
    (button,) = [b for b in app.button if b.label in (t("ko", "add_submit"), "Add")]
    button.click().run()
    assert not app.exception, [e.message for e in app.exception]


def html_bodies(app: AppTest) -> list[str]:
    return [e.proto.body for e in app.get("html")]


def added_list(settings):
    return settings.data_dir / "added.md"


def test_access_is_open_on_loopback_and_needs_a_token_elsewhere():
    for address in ("127.0.0.1", "localhost", "::1", "[::1]"):
        assert access(address, None) == "open"
    for address in ("", None, "0.0.0.0", "::", "192.168.0.5", "127.0.0.1.example.org"):
        assert access(address, None) is None
        assert access(address, "s3cret") == "token"


def test_admit_allows_the_limit_per_window_then_says_how_long_to_wait():
    attempts: list[float] = []
    assert [admit(attempts, 100.0 + i) for i in range(ADD_LIMIT)] == [0.0] * ADD_LIMIT
    assert admit(attempts, 110.0) == pytest.approx(ADD_WINDOW_SECONDS - 10.0)
    assert len(attempts) == ADD_LIMIT  # a refused try is not counted
    assert admit(attempts, 100.0 + ADD_WINDOW_SECONDS) == 0.0  # the first try has aged out


def test_an_added_resource_is_written_and_searchable_on_the_next_run(site, listening, local_server):
    listening("127.0.0.1")
    app = run_app()
    before = read_manifest(site.index_dir)["build_id"]
    url = local_server.url("/ckpt")
    submit(app, url, "메모리를 아끼는 학습 방법", "김철수")
    assert [s.value for s in app.success] == [t("ko", "add_done")]
    assert any(f'href="{url}"' in body for body in html_bodies(app))
    assert app.text_input(key="add_url").value == ""  # the form is ready for the next one
    text = added_list(site).read_text(encoding="utf-8")
    assert text.startswith("## 김철수 (") and f"<{url}>" in text
    assert read_manifest(site.index_dir)["build_id"] != before

    app.text_input(key="q").input("gradient checkpointing memory").run()
    cards = [b for b in html_bodies(app) if b.startswith('<div class="rc-card"')]
    assert f'href="{url}"' in cards[0]
    assert "Gradient checkpointing explained" in html.unescape(re.sub("<[^>]+>", "", cards[0]))


def test_hostile_input_is_literal_in_the_list_and_inert_in_the_page(site, listening, local_server):
    listening("localhost")
    app = run_app()
    note = '<script>alert("note")</script> 자세히는 [여기](javascript:alert(1)) **굵게**'
    name = "<b>운영자</b>"
    submit(app, local_server.url("/ckpt"), note, name)
    assert [s.value for s in app.success] == [t("ko", "add_done")]
    text = added_list(site).read_text(encoding="utf-8")
    assert "<script" not in text and "](javascript:" not in text and "<b>" not in text
    (added,) = [r for r in parse_sources([site.data_dir]).resources if "ckpt" in r.url]
    (mention,) = added.mentions
    assert mention.note == note and mention.contributor == name  # read back exactly

    app.text_input(key="q").input("gradient checkpointing").run()
    (card,) = [b for b in html_bodies(app) if b.startswith('<div class="rc-card"') and "ckpt" in b]
    assert "&lt;script&gt;alert(&quot;note&quot;)&lt;/script&gt;" in card
    assert "[여기](javascript:alert(1))" in card and "**굵게**" in card  # not a link, not bold
    assert "&lt;b&gt;운영자&lt;/b&gt;" in card
    for body in html_bodies(app):
        assert "<script" not in body and "<b>" not in body and 'href="javascript' not in body


def test_bad_input_is_refused_clearly_and_tries_are_limited_per_session(site, listening):
    listening("127.0.0.1")
    app = run_app("en")
    build = read_manifest(site.index_dir)["build_id"]
    bad = [
        ("javascript:alert(1)", "unsupported scheme 'javascript:'"),
        ("[x](javascript:alert(1))", "unsupported scheme"),
        ("<script>alert(1)</script>", "not a web address"),
        ("ftp://files.example.org/a.pdf", "unsupported scheme 'ftp:'"),
        ("", "empty URL"),
    ]
    assert len(bad) == ADD_LIMIT
    for url, reason in bad:
        submit(app, url, "메모")
        assert [e.value for e in app.error] == [t("en", "add_refused")]
        (detail,) = [b for b in html_bodies(app) if b.startswith('<div class="rc-pre">')]
        assert reason in html.unescape(detail) and "<script>" not in detail
        assert app.text_input(key="add_url").value == url  # kept, to be corrected
    submit(app, "https://example.org/fine", "메모")  # the sixth try within the minute
    (warning,) = app.warning
    assert warning.value.startswith(f"At most {ADD_LIMIT} adds a minute: try again in ")
    assert not app.error and not app.success
    assert not added_list(site).exists()
    assert read_manifest(site.index_dir)["build_id"] == build

    other = run_app("en")  # another session has its own allowance
    submit(other, "mailto:someone@example.org")
    assert [e.value for e in other.error] == [t("en", "add_refused")]


def test_off_loopback_the_form_is_hidden_without_a_token_and_needs_it(
    site, listening, local_server, monkeypatch
):
    listening("")  # all interfaces
    app = run_app()
    assert "add_url" not in [w.key for w in app.text_input]

    monkeypatch.setenv("RECALL_ADD_TOKEN", "s3cret")
    app = run_app()
    url = local_server.url("/ckpt")
    submit(app, url, "메모", token="guess")
    assert [e.value for e in app.error] == [t("ko", "add_bad_token")]
    assert not added_list(site).exists()
    submit(app, url, "메모", token="s3cret")
    assert [s.value for s in app.success] == [t("ko", "add_done")]
    assert f"<{url}>" in added_list(site).read_text(encoding="utf-8")
