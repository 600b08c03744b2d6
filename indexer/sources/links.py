"""Links inside markdown text: finding them, and choosing a title for each."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from indexer.resources import is_badge, url_problem
from indexer.sources.headings import clean_inline

# ------------------------------------------------------------------ link scanning

# [text](target) and ![alt](target): the text may hold one level of brackets
# ("[[Code]](url)") and the target one level of parentheses (wiki URLs,
# javascript:alert(1)). Possessive quantifiers never backtrack, so the pattern
# stays linear on a 10 MB line.
_MD_LINK = re.compile(
    r"(?P<image>!?)\[(?P<text>(?:[^\[\]]++|\[[^\[\]]*+\])*+)\]"
    r"\(\s*(?P<target><[^<>\n]*+>|(?:[^()\n]++|\([^()\n]*+\))*+)\)"
)
_ANCHOR_CLOSE = re.compile(r"</a\s*>", re.IGNORECASE)
_AUTOLINK = re.compile(r"<(?P<target>[a-zA-Z][a-zA-Z0-9+.-]*:[^<>\s]+)>")
# <img src="…" alt="…">, as ![alt](src) is: its text the alt text, when it has one.
# (attributes bounded: an unclosed <img> with many src= was tried at each of them)
_HTML_IMAGE = re.compile(
    r"<img\s[^<>]{0,2000}?\bsrc\s*=\s*[\"'](?P<target>[^\"'<>]{0,4000})[\"'][^<>]{0,2000}>", re.I
)
_ALT = re.compile(r"\balt\s*=\s*[\"'](?P<alt>[^\"'<>]*)[\"']", re.I)
_HTML_ANCHOR = re.compile(
    r"<a\s[^<>]*?href\s*=\s*[\"'](?P<target>[^\"'<>]*)[\"'][^<>]*>(?P<text>.*?)</a\s*>",
    re.IGNORECASE | re.DOTALL,
)
# A URL in plain text ends at whitespace, quotes, backticks (`https://…` is inline code),
# angle brackets or a closing bracket; trailing punctuation is trimmed afterwards.
_BARE_URL = re.compile(
    r"(?:https?|ftp)://[^\s<>\"'`\]\[)(]+|www\.[a-z0-9-]+\.[^\s<>\"'`\]\[)(]+", re.I
)
_TRAILING_PUNCT = ".,;:!?'\"*_~"
_DANGEROUS_SCHEME = re.compile(r"^\s*(javascript|file|data|vbscript)\s*:", re.I)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass
class Link:
    start: int
    end: int
    text: str  # link text as written; the URL itself for bare URLs
    url: str  # target as written (markdown title removed)
    image: bool = False
    badge: str = ""  # around a badge, the badge's alt text: what names it, failing all else


def mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """text with the given spans blanked out, offsets unchanged."""
    if not spans:
        return text
    parts, position = [], 0
    for start, end in sorted(spans):
        parts.append(text[position:start])
        parts.append(" " * (end - start))
        position = end
    parts.append(text[position:])
    return "".join(parts)


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _clean_target(target: str) -> str:
    if not target.isascii():  # translate is slow, and the invisible characters are not ASCII
        target = target.translate(_INVISIBLE)
    target = target.strip()
    if target.startswith("<") and target.endswith(">"):
        return target[1:-1].strip()
    return _without_link_title(target).strip()


def _without_link_title(target: str) -> str:
    """`url "title"` or `url 'title'` -> url. Found from the end: a regex ending in
    `\\s*$` retried from every space of a long target, which was quadratic."""
    end = target.rstrip()
    quote = end[-1:]
    if quote not in ('"', "'") or len(end) < 2:
        return target
    opening = end.rfind(quote, 0, len(end) - 1)
    if opening <= 0 or not end[opening - 1].isspace():
        return target
    return end[:opening].rstrip()


def _last_anchor_close(text: str) -> int:
    """Where the last </a> ends. An <a href> after it can never close, and the lazy
    `.*?</a>` would rescan the rest of the text from each one: 16,000 unclosed
    anchors on one line took half a minute."""
    end = 0
    for match in _ANCHOR_CLOSE.finditer(text):
        end = match.end()
    return end


def _with_alt_texts(text: str, images: list[Link]) -> str:
    """`text` with each of its images written as its alt text (none where it has none, nor
    for a badge: "GitHub stars" names nothing)."""
    parts, position = [], 0
    for image in images:
        alt = "" if image.text == image.url or is_badge(image.url) else image.text
        parts += [text[position : image.start], alt]
        position = image.end
    return " ".join("".join([*parts, text[position:]]).split())


def scan_links(text: str) -> list[Link]:
    """Every link in a piece of markdown, in order, without overlaps; a status badge's
    picture is none (a link around it is)."""
    return [link for link in _scan(text) if not (link.image and is_badge(link.url))]


def _scan(text: str) -> list[Link]:
    links: list[Link] = []
    for match in _MD_LINK.finditer(text):
        link_text, badge = match["text"], ""
        if "](" in link_text or "<img" in link_text.lower():
            inner = _scan(link_text)
            if inner and all(link.image for link in inner):
                # A linked image (a badge, a video's thumbnail): the link is the resource,
                # named by the image's alt text; the picture is decoration.
                badge = " ".join(i.text for i in inner if is_badge(i.url) and i.text != i.url)
                link_text = _with_alt_texts(link_text, inner)
            elif "](" in link_text:
                # Links cannot hold links: the inner one wins, the outer brackets are text.
                inner_start = match.start("text")
                for link in inner:
                    link.start += inner_start
                    link.end += inner_start
                    links.append(link)
                continue
        target = _clean_target(match["target"])
        if not target:
            continue
        if target.lower().startswith("www."):
            target = "http://" + target
        links.append(
            Link(match.start(), match.end(), link_text, target, bool(match["image"]), badge)
        )
    masked = mask_spans(text, [(link.start, link.end) for link in links])
    if "<" in masked:  # HTML anchors, images and autolinks all open with one
        for pattern in (_HTML_ANCHOR, _HTML_IMAGE, _AUTOLINK):
            found = []
            end = _last_anchor_close(masked) if pattern is _HTML_ANCHOR else len(masked)
            for match in pattern.finditer(masked, 0, end):
                if not match["target"].strip():
                    continue
                named = match.groupdict().get("text")
                image = pattern is _HTML_IMAGE
                if image:
                    alt = _ALT.search(match.group())
                    named = alt["alt"].strip() if alt else ""
                target = match["target"].strip()
                found.append(Link(match.start(), match.end(), named or target, target, image))
            masked = mask_spans(masked, [(link.start, link.end) for link in found])
            links.extend(found)
    if "://" in masked or "www." in masked.lower():  # one of them is in every bare URL
        for match in _BARE_URL.finditer(masked):
            url = match.group().rstrip(_TRAILING_PUNCT)
            if url.lower().startswith("www."):
                url = "http://" + url
            links.append(Link(match.start(), match.start() + len(match.group()), url, url))
    links.sort(key=lambda link: link.start)
    return links


def is_dangerous(url: str) -> bool:
    """A javascript:, data:, file: or vbscript: target, never to be written as a link."""
    return bool(_DANGEROUS_SCHEME.match(url))


@functools.lru_cache(maxsize=65536)  # asked again for every mention of a link
def target_problem(url: str) -> str | None:
    if _DANGEROUS_SCHEME.match(url):
        return url_problem(url)
    if not _SCHEME.match(url):
        return "relative link or missing scheme"
    return url_problem(url)


# ------------------------------------------------------------------- titles

_GENERIC_WORDS = {
    "논문",
    "소개글",
    "소개",
    "동영상",
    "영상",
    "발표자료",
    "슬라이드",
    "코드",
    "소스",
    "소스코드",
    "구현",
    "한글",
    "한글판",
    "원문",
    "번역",
    "번역본",
    "홈페이지",
    "링크",
    "여기",
    "첨부파일",
    "블로그",
    "다운로드",
    "자막",
    "참고",
    "데모",
    "깃허브",
    "깃헙",
    "강의",
    "강의노트",
    "강의자료",
    "paper",
    "pdf",
    "code",
    "github",
    "git",
    "repo",
    "link",
    "here",
    "this",
    "slide",
    "slides",
    "video",
    "youtube",
    "youtu",
    "blog",
    "post",
    "download",
    "homepage",
    "home",
    "website",
    "site",
    "arxiv",
    "demo",
    "source",
    "web",
    "url",
    "page",
    "doc",
    "docs",
    "ppt",
    "notebook",
    "more",
    "syllabus",
    "course project",
    "tutorial",
    "article",
    "presentation",
    "talk",
    "kr",
    "en",
    "colab",  # badges: [![Open In Colab](badge.svg)](notebook)
    "open in colab",
}
_CONNECTIVES = {"and", "or", "&", "vs", "및", "그리고", "또는"}
_SHORT_TITLE_CHARS = 15
_MAX_TITLE_CHARS = 200
_NOT_WORDS = re.compile(r"[\d\s\[\]()_:.,!?#*-]+")  # what is left around a generic word
_NUMBERED_PART = re.compile(r"\d+\s*(주차|장|강|편|부)")  # "3주차", "2 장": week, chapter…
_URL_LIKE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|www\.)\S*$", re.I)


def _is_generic(text: str) -> bool:
    core = _NOT_WORDS.sub(" ", text.lower()).strip()
    return core in _GENERIC_WORDS or bool(_NUMBERED_PART.fullmatch(text.strip()))


def looks_like_url(text: str) -> bool:
    return bool(_URL_LIKE.match(text.strip()))


# Cached: every link of a bullet or heading asks again about the same (possibly huge)
# topic, lead or table cell, and 3,000 links under one long heading took seconds.
@functools.lru_cache(maxsize=256)
def context_label(text: str) -> str:
    """Surrounding text cleaned to serve as (part of) a title."""
    text = " ".join(clean_inline(text).split())
    # str.strip, not an anchored regex: `[...]+$` retried from every character of a run
    # of "[" and took seconds on one 20 kB bullet. (Whitespace is single spaces here.)
    text = text.lstrip(" :：,;|/·-–—>)]").rstrip(" :：,;|/·-–—(<[")
    return text[:_MAX_TITLE_CHARS].strip()


def choose_title(
    link_text: str, url: str, qualifiers: Iterable[str], names: Iterable[str]
) -> tuple[str, bool]:
    """The best title for a link, and whether it is only a placeholder.

    Link texts that are the URL itself or a generic word ("논문", "GitHub") say
    nothing: the title then comes from the first of `names` that says something (the
    text around the link, what an earlier link of the same item is called, the section's
    topic), and the fetched page's title may replace it later (placeholder True). Short
    texts ("Spring 2017") are qualified by the first of `qualifiers` (the bullet's text).
    Text without a letter ("★★★", "2017-01") names and qualifies nothing.
    """
    text = context_label(link_text)
    while text.startswith("[") and text.endswith("]"):
        text = text[1:-1].strip()
    is_url = not text or looks_like_url(text)
    generic = not is_url and _is_generic(text)
    short = len(text) <= _SHORT_TITLE_CHARS and len(text.split()) <= 2
    if not (is_url or generic or short):
        return text, False
    candidates = names if is_url or generic else qualifiers
    context = next(
        (
            c
            for c in map(context_label, candidates)
            if any(map(str.isalpha, c))
            and c.lower() not in _CONNECTIVES
            and not _is_generic(c)
            and not looks_like_url(c)
            and c != text
        ),
        "",
    )
    if is_url:
        return (context, False) if context else (url, True)
    if context:
        return f"{context} ({text})", generic
    return text, generic
