"""URL normalisation and resource types."""

from __future__ import annotations

import pytest

from indexer.resources import normalize_url, resource_type, url_problem


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("HTTPS://Example.COM/Path?b=2&a=1#frag", "https://example.com/Path?b=2&a=1"),
        (
            "https://ex.com/p?utm_source=x&id=3&utm_medium=y&fbclid=abc&gclid=z",
            "https://ex.com/p?id=3",
        ),
        ("http://ex.com:80/a", "http://ex.com/a"),
        ("https://ex.com:8443/a", "https://ex.com:8443/a"),
        ("https://ex.com", "https://ex.com/"),
        ("https://ex.com/a?flag", "https://ex.com/a?flag"),
        (
            "https://ko.wikipedia.org/wiki/인공지능",
            "https://ko.wikipedia.org/wiki/%EC%9D%B8%EA%B3%B5%EC%A7%80%EB%8A%A5",
        ),
        ("https://youtu.be/abc", "https://youtu.be/abc"),
        (
            "https://www.youtube.com/watch?v=abc&feature=youtu.be",
            "https://www.youtube.com/watch?v=abc&feature=youtu.be",
        ),
    ],
)
def test_normalize_url(raw, normalized):
    assert normalize_url(raw) == normalized
    assert normalize_url(normalized) == normalized


def test_youtube_forms_stay_distinct_on_purpose():
    assert normalize_url("https://youtu.be/abc") != normalize_url(
        "https://www.youtube.com/watch?v=abc"
    )


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://arxiv.org/abs/1811.12649", "paper"),
        ("https://github.com/a/b", "repo"),
        ("https://www.youtube.com/watch?v=x", "video"),
        ("http://www.yes24.com/Product/Goods/1", "book"),
        ("http://cmp.felk.cvut.cz/~chum/papers/chum_cvpr11.pdf", "pdf"),
        ("https://blog.keras.io/post.html", "article"),
        ("javascript:alert(1)", "other"),
    ],
)
def test_resource_type(url, kind):
    assert resource_type(url) == kind


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "file:///etc/passwd", "https://ex.com/a…", "http://a b.com", "http://"],
)
def test_url_problem(url):
    assert url_problem(url)


def test_url_problem_accepts_normal_urls():
    assert url_problem("https://arxiv.org/abs/1811.12649") is None
