"""Extraction is a pure function of bytes and a content type: tested on plain bytes."""

from __future__ import annotations

import pytest
import trafilatura
from httpserver import fixture_bytes
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.extract import content_kind, decode, extract, sniff_kind, strip_tags

KOREAN = "케라스 코리아에서 공유한 딥러닝 자료입니다. 논문과 강의 영상을 함께 정리했습니다."


def korean_page(meta: str) -> bytes:
    html = f"<html><head>{meta}<title>자료 모음</title></head><body><p>{KOREAN}</p></body></html>"
    return html.encode("euc-kr")


# ------------------------------------------------------------------- charsets


def test_euc_kr_declared_only_in_a_meta_tag_decodes():
    assert KOREAN in decode(korean_page('<meta charset="euc-kr">'), "text/html")
    http_equiv = '<meta http-equiv="Content-Type" content="text/html; charset=EUC-KR">'
    assert KOREAN in decode(korean_page(http_equiv), "text/html")


def test_a_default_latin1_header_does_not_override_the_pages_own_charset():
    body = korean_page('<meta charset="euc-kr">')
    assert KOREAN in decode(body, "text/html; charset=ISO-8859-1")


def test_header_charset_is_used_when_the_page_says_nothing():
    body = f"<p>{KOREAN}</p>".encode("euc-kr")
    assert KOREAN in decode(body, "text/html; charset=euc-kr")


def test_euc_kr_label_decodes_cp949_only_syllables():
    # 똠 and 햏 are outside strict EUC-KR; browsers (and Recall) read the label as CP949.
    body = "<meta charset='euc-kr'><p>똠방각하 햏자</p>".encode("cp949")
    assert "똠방각하 햏자" in decode(body)


def test_undeclared_korean_is_detected():
    body = (KOREAN * 5).encode("euc-kr")
    assert decode(body, None) == KOREAN * 5


def test_utf8_wins_over_a_wrong_declaration_and_boms_are_honoured():
    body = f'<meta charset="euc-kr"><p>{KOREAN}</p>'.encode()
    assert KOREAN in decode(body, "text/html")
    assert decode("한글".encode("utf-16"), None) == "한글"
    assert decode(b"\xef\xbb\xbfhello") == "hello"


@settings(max_examples=200, deadline=None, database=None)
@given(st.binary(max_size=2000), st.sampled_from([None, "text/html; charset=foo", "text/plain"]))
def test_decode_never_raises(body, content_type):
    assert isinstance(decode(body, content_type), str)


# ----------------------------------------------------------------------- HTML


def test_article_main_text_and_metadata():
    result = extract(fixture_bytes("article.html"), "text/html", "https://blog.example/attention")
    assert result.kind == "html"
    assert "Scaled dot-product attention divides the scores" in result.text
    assert "Subscribe to our newsletter" not in result.text
    assert "Generative adversarial networks in ten minutes" not in result.text
    assert result.title == "Understanding Attention"
    assert result.author == "Ada Example"
    assert result.date == "2019-03-21"
    assert result.description == "A gentle walk through the attention mechanism."
    assert result.language == "en"
    assert result.error is None


def test_korean_page_in_euc_kr():
    result = extract(fixture_bytes("korean-euckr.html"), "text/html")
    assert "합성곱 신경망으로 이미지를 분류하는 예제" in result.text
    assert "\ufffd" not in result.text


def test_page_without_main_text_falls_back_to_what_it_says_about_itself():
    video = extract(fixture_bytes("video.html"), "text/html")
    assert video.title == "케라스로 배우는 딥러닝 - 1강"
    assert video.description == "케라스 코리아 밋업 발표 영상: 신경망의 기초부터 실습까지."
    assert video.text == video.description
    assert video.language == "ko"

    shell = b"""<html><head><title>Dashboard</title>
        <meta name="description" content="Charts of training runs."></head>
        <body><div id="root"></div><script>boot()</script></body></html>"""
    app = extract(shell, "text/html")
    assert (app.title, app.description, app.text) == (
        "Dashboard",
        "Charts of training runs.",
        "Charts of training runs.",
    )


@pytest.mark.timeout(60)
def test_pathologically_deep_html_does_not_crash():
    depth = 100_000
    deep = ("<html><body>" + "<div>" * depth + "hello deep" + "</div>" * depth).encode()
    result = extract(deep, "text/html")
    assert result.kind == "html"
    assert "hello deep" in result.text


def test_extractor_failure_falls_back_to_a_tag_strip(monkeypatch):
    def explode(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(trafilatura, "bare_extraction", explode)
    result = extract(fixture_bytes("article.html"), "text/html")
    assert "RecursionError" in result.error
    assert "Multi-head attention runs several attention functions" in result.text
    assert result.title  # from <title> / og:title


def test_strip_tags_drops_scripts_styles_and_comments():
    html = "<p>a &amp; b</p><script>var x = 1;</script><style>p{}</style><!-- hidden --><p>c</p>"
    assert strip_tags(html) == "a & b c"


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.binary(max_size=3000), st.sampled_from(["text/html", "application/pdf", "text/plain", None])
)
def test_extract_never_raises(body, content_type):
    result = extract(body, content_type)
    assert isinstance(result.text, str)


# ------------------------------------------------------------------------ PDF


def test_pdf_text_of_every_page_and_title():
    result = extract(fixture_bytes("paper.pdf"), "application/pdf")
    assert result.kind == "pdf"
    assert "The Transformer relies entirely on self-attention." in result.text
    assert "Second page: positional encodings" in result.text
    assert result.title == "Attention Revisited"
    assert result.error is None


def test_pdf_page_limit():
    result = extract(fixture_bytes("paper.pdf"), "application/pdf", max_pdf_pages=1)
    assert "relies entirely on self-attention" in result.text
    assert "Second page" not in result.text


@pytest.mark.parametrize(
    "body", [b"%PDF-1.4\nnot really", b"", fixture_bytes("paper.pdf")[:300], b"\x00" * 64]
)
def test_malformed_pdf_gives_empty_text_and_an_error(body):
    result = extract(body, "application/pdf")
    assert (result.kind, result.text) == ("pdf", "")
    assert result.error and result.error.startswith("malformed PDF")


def test_pdf_served_as_octet_stream_is_sniffed():
    result = extract(fixture_bytes("paper.pdf"), "application/octet-stream")
    assert result.kind == "pdf" and "self-attention" in result.text


# ---------------------------------------------------------------- plain text


def test_markdown_and_plain_text_are_kept_as_is():
    notes = fixture_bytes("notes.md")
    result = extract(notes, "text/markdown")
    assert (result.kind, result.text) == ("text", notes.decode())
    assert result.title == "Reading notes on optimisers"
    korean = extract(KOREAN.encode("euc-kr"), "text/plain; charset=euc-kr")
    assert korean.text == KOREAN


def test_text_is_capped():
    result = extract(b"word " * 1000, "text/plain", max_text_chars=100)
    assert len(result.text) == 100


# -------------------------------------------------------------- content types


def test_content_kinds():
    assert content_kind("text/html; charset=utf-8") == "html"
    assert content_kind("application/xhtml+xml") == "html"
    assert content_kind("Application/PDF") == "pdf"
    assert content_kind("text/markdown") == "text"
    assert content_kind(None) == "sniff"
    assert content_kind("image/png") is None
    assert content_kind("application/zip") is None
    assert sniff_kind(b"  <!DOCTYPE html><html>") == "html"
    assert sniff_kind(b"%PDF-1.7") == "pdf"
    assert sniff_kind(b"\x89PNG\r\n\x1a\n\x00\x00") is None
    unsupported = extract(b"PK\x03\x04", "application/zip")
    assert unsupported.kind == "unsupported" and "application/zip" in unsupported.error
