"""Safe HTML from untrusted text: every string from a list or a fetched page goes through here.

The app renders data only as HTML built by these functions (shown with st.html, which
does not interpret markdown), never through st.markdown. Every piece of text is
html-escaped; the only tags added are the ones written below; only http(s) URLs
become links.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

# Bidirectional overrides/isolates, zero-width characters and other invisible format
# characters can make a title read differently from what it is ("gnp.exe" shown as
# "exe.png"); C0/C1 control characters other than newline and tab are dropped too.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb]"
)
MAX_URL_CHARS = 4096


def clean_text(text: object) -> str:
    """Printable text: invisible and direction-changing characters removed, NFC."""
    if text is None:
        return ""
    return unicodedata.normalize("NFC", _INVISIBLE.sub("", str(text)))


def one_line(text: object) -> str:
    """Cleaned text on a single line with single spaces (titles, names)."""
    return " ".join(clean_text(text).split())


def esc(text: object) -> str:
    """Cleaned and html-escaped text, safe as element content and attribute value."""
    return html.escape(clean_text(text), quote=True)


def safe_href(url: object) -> str | None:
    """The URL if it may be a link target (absolute http or https with a host), else None."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
        return None
    if url != url.strip() or _INVISIBLE.search(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def anchor(inner_html: str, url: object, css: str = "") -> str:
    """`inner_html`, which the caller built from escaped pieces, inside a link to `url`
    opening in a new tab; inside a plain <span> when `url` is not http(s)."""
    href = safe_href(url)
    cls = f' class="{esc(css)}"' if css else ""
    if href is None:
        return f"<span{cls}>{inner_html}</span>"
    return (
        f'<a{cls} href="{html.escape(href, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer nofollow">{inner_html}</a>'
    )


def link(label: object, url: object, css: str = "") -> str:
    """The label as escaped text, linking to `url` when it is http(s)."""
    return anchor(esc(one_line(label)) or esc(url), url, css)


def _terms_pattern(terms: Iterable[str]) -> re.Pattern | None:
    """One case-insensitive pattern for the terms; longer terms win where two start together."""
    words = {one_line(w) for w in terms if isinstance(w, str)} - {""}
    if not words:
        return None
    ordered = sorted(words, key=lambda w: (-len(w), w))
    return re.compile("|".join(re.escape(w) for w in ordered), re.IGNORECASE)


def highlight(text: object, terms: Iterable[str]) -> str:
    """Escaped text with each occurrence of the terms wrapped in <mark>."""
    text = clean_text(text)
    pattern = _terms_pattern(terms)
    if pattern is None:
        return html.escape(text)
    pieces, cursor = [], 0
    for match in pattern.finditer(text):
        pieces.append(html.escape(text[cursor : match.start()]))
        pieces.append(f"<mark>{html.escape(match.group())}</mark>")
        cursor = match.end()
    pieces.append(html.escape(text[cursor:]))
    return "".join(pieces)


def badge(text: object, tone: str = "neutral") -> str:
    return f'<span class="rc-badge rc-{esc(tone)}">{esc(one_line(text))}</span>'


def excerpt(text: object, limit: int) -> str:
    """The start of a text on one line, cut at a word boundary near `limit` characters."""
    flat = one_line(text)
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"
