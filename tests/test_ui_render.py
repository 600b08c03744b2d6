"""Escaping, link checking and highlighting for the app, on plain and hostile strings."""

import re

import pytest

from indexer.query import type_words
from search_ui.cards import (
    definitions_html,
    entry_html,
    mention_html,
    meta_html,
    result_card_html,
    status_badge,
    title_html,
    url_html,
)
from search_ui.i18n import _INTENTS, why_text
from search_ui.render import anchor, clean_text, esc, excerpt, highlight, link, safe_href

HOSTILE = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "[click](javascript:alert(1))",
    "**bold** _it_ `code` :red[red] ![i](https://e.com/i.png)",
    "&lt;script&gt;",
    "' onmouseover='alert(1)",
]


def tags(fragment: str) -> list[str]:
    return re.findall(r"<\s*([a-zA-Z]+)", fragment)


@pytest.mark.parametrize("text", HOSTILE)
def test_esc_leaves_no_markup(text):
    escaped = esc(text)
    assert "<" not in escaped and ">" not in escaped
    assert '"' not in escaped and "'" not in escaped
    assert tags(escaped) == []


def test_clean_text_removes_direction_overrides_and_invisible_characters():
    title = "LSTM \u202etxt.exe\u202c 방향\u200b제로폭\ufeff\u2066x\u2069\x07"
    assert clean_text(title) == "LSTM txt.exe 방향제로폭x"
    assert clean_text("줄\n바꿈\t탭") == "줄\n바꿈\t탭"
    assert clean_text(None) == ""


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/x",
        "/relative/path",
        "https://",
        "https://exa mple.com/",
        "https://example.com/\u202eexe",
        "",
        None,
        42,
    ],
)
def test_safe_href_rejects_everything_but_absolute_http_urls(url):
    assert safe_href(url) is None


@pytest.mark.parametrize(
    "url", ["https://arxiv.org/abs/1811.12649", "http://www.yes24.com/Product/Goods/69334316"]
)
def test_safe_href_keeps_http_urls(url):
    assert safe_href(url) == url


def test_link_escapes_the_url_and_opens_a_new_tab():
    html = link('a"b', 'https://e.com/?q="><script>alert(1)</script>&x=1')
    assert html.startswith('<a href="https://e.com/?q=&quot;&gt;&lt;script&gt;')
    assert "&amp;x=1" in html
    assert 'target="_blank"' in html and "noopener" in html
    assert ">a&quot;b</a>" in html
    assert tags(html) == ["a"]


def test_link_with_a_javascript_url_is_plain_text():
    html = link("click me", "javascript:alert(1)")
    assert html == "<span>click me</span>"
    assert "href" not in html


def test_anchor_wraps_given_html():
    assert anchor("<mark>x</mark>", "ftp://e.com") == "<span><mark>x</mark></span>"


def test_highlight_marks_terms_case_insensitively_and_escapes_the_rest():
    html = highlight("Time Series <b>with</b> lstm and LSTM", ["LSTM", "series"])
    assert html == (
        "Time <mark>Series</mark> &lt;b&gt;with&lt;/b&gt; <mark>lstm</mark> and <mark>LSTM</mark>"
    )


def test_highlight_korean_terms_inside_words_prefers_longer_terms():
    html = highlight("자연어처리 책입니다", ["자연어", "자연어처리", "책"])
    assert html == "<mark>자연어처리</mark> <mark>책</mark>입니다"


@pytest.mark.parametrize("text", HOSTILE)
def test_highlight_adds_only_mark_tags(text):
    html = highlight(text, ["alert", "script", "<img", "onerror", "javascript:", "bold"])
    assert set(tags(html)) <= {"mark"}
    assert "<mark>" in html


def test_highlight_terms_are_not_patterns():
    assert highlight("a.b axb", [".", "a.b"]) == "<mark>a.b</mark> axb"
    assert highlight("text", []) == "text"


def test_excerpt_cuts_at_a_word_boundary():
    assert excerpt("one two three four", 100) == "one two three four"
    assert excerpt("one two three four", 12) == "one two…"
    assert excerpt("줄\n\n바꿈", 100) == "줄 바꿈"


def test_dead_link_badge_says_when_the_page_was_last_seen():
    doc = {"link_health": "dead", "fetch_status": "http_404", "last_ok_at": "2021-03-01T10:00"}
    badge = status_badge("en", doc)
    assert "Dead link" in badge and "2021-03-01" in badge and "rc-dead" in badge
    assert "never seen" in status_badge("en", {"link_health": "dead", "last_ok_at": None})
    assert status_badge("en", {"link_health": "ok", "fetch_status": "ok"}) == ""


HOSTILE_DOC = {
    "id": "x1",
    "title": '&<script>alert("t")</script> \u202egnp.exe',
    "url": 'javascript:alert("href")',
    "type": "<b>paper</b>",
    "domain": "<i>evil</i>",
    "contributors": ["<img src=x onerror=alert(1)>"],
    "dates": ["2019-03-20"],
    "fetch_status": "invalid_url",
    "last_ok_at": None,
    "mentions": [
        {
            "contributor": "<u>who</u>",
            "date": "2019-03-20",
            "section": "[s](javascript:x)",
            "note": "<script>alert(2)</script>\n\n\n**note**",
            "source": "<a href=x>list.md</a>",
            "line": 3,
        }
    ],
}


def test_hostile_record_renders_inert_everywhere():
    hit = dict(
        HOSTILE_DOC, snippet="<svg onload=alert(3)> alert", why="<b>why</b>", terms=["alert"]
    )
    fragments = [
        title_html(HOSTILE_DOC, ["alert"]),
        meta_html("ko", HOSTILE_DOC),
        result_card_html("ko", hit, HOSTILE_DOC),
        mention_html("en", HOSTILE_DOC["mentions"][0]),
        url_html(HOSTILE_DOC["url"]),
        definitions_html([("<b>k</b>", "<script>v</script>")]),
    ]
    allowed = {"div", "span", "mark", "strong", "dl", "dt", "dd"}
    for fragment in fragments:
        assert set(tags(fragment)) <= allowed, fragment
        assert not re.search(r"""=\s*["']?javascript:""", fragment, re.IGNORECASE)
        assert "\u202e" not in fragment
    card = fragments[2]
    assert "&lt;script&gt;" in card and "&lt;svg onload=" in card
    assert "<mark>alert</mark>" in card
    assert "잘못된 링크" in card and "javascript:alert(&quot;href&quot;)" in card


def test_title_links_only_http_urls_and_keeps_highlights_inside_the_link():
    doc = {"title": "Time Series Prediction Using LSTM", "url": "https://e.com/a?b=1&c=2"}
    html = title_html(doc, ["lstm"])
    assert 'href="https://e.com/a?b=1&amp;c=2"' in html
    assert html.endswith("Using <mark>LSTM</mark></a></div>")


def test_result_card_shows_note_passage_and_why_without_repeating_the_note():
    doc = {"mentions": [{"note": "LSTM 시계열 예측 메모"}]}
    hit = {
        "title": "T",
        "url": "https://e.com",
        "type": "paper",
        "snippet": "LSTM 시계열 예측 메모",
        "why": "words: LSTM; similar meaning in the notes (0.40)",
        "terms": ["LSTM"],
    }
    card = result_card_html("ko", hit, doc)
    assert card.count("시계열 예측 메모") == 1
    assert "일치 단어: <mark>LSTM</mark>" not in card  # the why is text, not highlighted
    assert "일치 단어: LSTM; 메모와 의미가 비슷함 (0.40)" in card
    assert '<span class="rc-badge rc-type-paper">논문</span>' in card


def test_result_card_names_the_other_addresses_of_its_page():
    hit = {"title": "MIT", "url": "https://youtu.be/x", "type": "video", "why": "words: MIT"}
    assert "rc-label" in result_card_html("en", hit, {})
    assert "Also posted as" not in result_card_html("en", hit, {})
    hit["also_at"] = ["https://www.youtube.com/watch?v=x&t=30s", "javascript:alert(1)"]
    card = result_card_html("en", hit, {})
    assert "Also posted as" in card and "같은 자료의 다른 주소" in result_card_html("ko", hit, {})
    assert 'href="https://www.youtube.com/watch?v=x&amp;t=30s"' in card
    assert 'href="javascript' not in card  # shown as text, never as a link


def test_the_kinds_a_question_asks_for_are_named_in_korean():
    why = "words: GAN; similar meaning in the list entry (0.34); the kind asked for: code, paper"
    korean = "일치 단어: GAN; 목록 항목과 의미가 비슷함 (0.34); 찾는 종류: 코드, 논문"
    assert why_text("ko", why) == korean
    assert why_text("en", why) == why
    assert set(type_words().types_of) <= set(_INTENTS)  # every kind the table knows


def test_result_card_says_where_the_lists_file_it():
    hit = {"title": "논문", "url": "https://arxiv.org/abs/1", "type": "paper", "why": "words: GAN"}
    assert "rc-filed" not in result_card_html("en", hit, {})
    hit["filed_under"] = ["Generative Adversarial Network", "<b>Implementation</b>"]
    card = result_card_html("en", hit, {})
    assert "Filed under</span> Generative Adversarial Network · &lt;b&gt;Implementation" in card
    assert "분류</span> Generative Adversarial Network" in result_card_html("ko", hit, {})


def test_an_entry_links_to_its_page_in_the_app_only_when_asked():
    doc = {"title": "LSTM", "url": "https://example.com/lstm", "type": "article"}
    assert "rc-open" not in entry_html("ko", doc)
    linked = entry_html("en", doc, '?id=x"><script>&lang=en')
    escaped = "?id=x&quot;&gt;&lt;script&gt;&amp;lang=en"
    assert f'<a class="rc-open" href="{escaped}">Details</a>' in linked
    assert "<script>" not in linked
