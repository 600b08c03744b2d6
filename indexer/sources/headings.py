"""Section headings of resource lists: who posted, when, and about what."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date

from indexer.resources import is_badge

_DATE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*(?:[./-]|년)\s*(?P<m>\d{1,2})\s*(?:[./-]|월)\s*(?P<d>\d{1,2})\s*일?\.?"
)
_HONORIFIC = re.compile(r"^(?P<name>.+?)(?:님|씨)(?=$|\s|[,:)의])")
# A whole text ending in 님/씨 is one name, even with 님 or 씨 inside it ("김씨 철수님").
_WHOLE_HONORIFIC = re.compile(r"^(?P<name>.+)(?:님|씨)$")
_HANGUL_NAME = re.compile(r"^[가-힣]{2,4}$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s")  # "1. ", "3) ": a numbered step, not a name
_LATIN_NAME = re.compile(r"^[A-Z][a-z]+(?: [A-Z][a-z]+){1,2}$")
# Common Korean surnames: a dated heading of two to four syllables starting
# with one of these reads as a person ("이상훈 (2019.03.14)"), other dated
# headings read as topics ("시계열 (2019.04.23)").
_SURNAMES = set(
    "김이박최정강조윤장임한오서신권황안송류유홍전고문양손배백허남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부"
)
_COMPOUND_SURNAMES = ("황보", "남궁", "제갈", "선우", "독고", "사공", "서문")
_NOT_NAMES = {
    "이미지",
    "이론",
    "정리",
    "정규화",
    "신경망",
    "한국어",
    "한글",
    "강화학습",
    "강의",
    "강좌",
    "기초",
    "기타",
    "모델",
    "모음",
    "문서",
    "방법",
    "번역",
    "부록",
    "사례",
    "소개",
    "소스",
    "성능",
    "구현",
    "구조",
    "도구",
    "예제",
    "용어",
    "우리말",
    "인공지능",
    "인식",
    "전처리",
    "조언",
    "주의",
    "진행",
    "차원",
    "추천",
    "공부",
    "공지",
    "논문",
    "동영상",
    "발표",
}
_LATIN_NOT_NAMES = {
    "Deep",
    "Learning",
    "Machine",
    "Neural",
    "Network",
    "Networks",
    "Keras",
    "Tips",
    "News",
    "Paper",
    "Papers",
    "Review",
    "Guide",
    "Tutorial",
    "Tutorials",
    "Data",
    "Science",
    "Model",
    "Models",
    "Time",
    "Series",
    "Object",
    "Detection",
    "Reading",
    "List",
    "Links",
    "Study",
    "Books",
    "Book",
    "Blog",
    "Posts",
    "Videos",
    "Video",
    "Course",
    "Courses",
    "Code",
    "Tools",
}
_TAGS = re.compile(r"<[^<>]{0,200}>")
_MD_LINK_TEXT = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(((?:[^()\n]|\([^()\n]*\))*)\)")
_EMPHASIS = re.compile(r"(\*\*|__|~~|`)")
# *a title* or _a title_ (single emphasis): not a * or _ inside a word (snake_case, 2*3*4)
_SINGLE_EMPHASIS = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]{0,300}?[^\s*])\*(?![\w*])")
_SINGLE_UNDERSCORE = re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]{0,300}?[^\s_])_(?![\w_])")
# GitHub's emoji shortcodes (:star:, :+1:, :white_check_mark:) show as pictures, not words;
# not a time (12:30:00), a C++ scope (std::vector) nor part of a path.
EMOJI_SHORTCODE = re.compile(r"(?<![\w:/])(?::(?=[0-9_+-]*[a-z])[a-z0-9_+-]{1,40}:)+(?![\w:])")
# Runs of spaces and tabs, but not a lone space: it would only be replaced by itself.
_SPACES = re.compile(r"\t[ \t]*| [ \t]+")
_PARENTHESISED = re.compile(r"\(([^()]*)\)")


def _inner_text(emphasis: re.Match) -> str:
    return emphasis[1]


def _link_text(link: re.Match) -> str:
    """A markdown link's text (a function: re reads a template such as r"\1" anew each call);
    a badge says nothing, and a linked image is its alt text."""
    if link[1] and is_badge(link[3]):
        return ""
    return _MD_LINK_TEXT.sub(_link_text, link[2]) if "](" in link[2] else link[2]


def clean_inline(text: str, decode: bool = True) -> str:
    """Markdown/HTML inline text reduced to what a reader sees, on one line per paragraph.

    With decode False, character references (`&#40;`) stay encoded: a heading is read
    for its structure first, so that an encoded bracket or dot is text, not syntax.
    """
    text = _MD_LINK_TEXT.sub(_link_text, text)
    text = _TAGS.sub("", text)
    text = _EMPHASIS.sub("", text)
    if "*" in text:
        text = _SINGLE_EMPHASIS.sub(_inner_text, text)
    if "_" in text:
        text = _SINGLE_UNDERSCORE.sub(_inner_text, text)
    if ":" in text:
        text = EMOJI_SHORTCODE.sub("", text)
    if decode:
        text = html.unescape(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def find_date(text: str) -> tuple[str | None, re.Match | None]:
    """The first valid calendar date in text as ISO YYYY-MM-DD, with its match."""
    for match in _DATE.finditer(text):
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"])).isoformat(), match
        except ValueError:
            continue
    return None, None


def _strip_honorific(text: str) -> tuple[str, str] | None:
    """(name, rest) when text opens with a name followed by 님/씨."""
    match = _WHOLE_HONORIFIC.match(text.strip()) or _HONORIFIC.match(text.strip())
    if not match or len(html.unescape(match["name"])) > 20 or _NUMBERED.match(match["name"]):
        return None  # "1. 처음 시작은 김성훈 교수님 …" is a numbered sentence, no one's post
    return match["name"].strip(), text.strip()[match.end() :].strip()


def looks_like_name(text: str) -> bool:
    """Whether a dated heading's text is a person rather than a topic."""
    text = text.strip()
    if _HANGUL_NAME.match(text):
        if text in _NOT_NAMES:
            return False
        if text.startswith(_COMPOUND_SURNAMES):
            return True
        return len(text) <= 3 and text[0] in _SURNAMES
    if _LATIN_NAME.match(text):
        return not any(word in _LATIN_NOT_NAMES for word in text.split())
    return False


@dataclass
class Heading:
    """What one heading, or a stack of them, says about the links below it."""

    title: str = ""
    contributor: str | None = None
    date: str | None = None
    topics: list[str] = field(default_factory=list)

    @classmethod
    def combine(cls, stack: list[Heading]) -> Heading:
        """Outer headings give topics and defaults; the innermost wins for who and when."""
        combined = cls()
        for heading in stack:
            combined.title = heading.title or combined.title
            combined.contributor = heading.contributor or combined.contributor
            combined.date = heading.date or combined.date
            combined.topics.extend(t for t in heading.topics if t not in combined.topics)
        return combined


def _parse_parenthesised(inner: str) -> tuple[str | None, str | None]:
    """'(이름님, 2019.10.05)' -> ('이름', '2019-10-05')."""
    iso, match = find_date(inner)
    rest = (inner[: match.start()] + inner[match.end() :]) if match else inner
    rest = rest.strip(" ,;/")
    honorific = _strip_honorific(rest)
    if honorific:
        return honorific[0], iso
    if rest and looks_like_name(rest):
        return rest, iso
    return None, iso


def parse_heading(raw: str) -> Heading:
    """Contributor, date and topic from one heading's text, in the shapes lists use.

    '이명규씨 (2019.02.22)', '이름님 페이스북(2019.03.22)', 'Topic (이름님, 2019.10.05)',
    'Topic (2019.04.23)', '이름 (2019.03.21) - subtopic', 'Topic', '2019. 10.31'.
    """
    title = clean_inline(raw, decode=False).replace("\n", " ")
    contributor = iso = None
    text = title
    for paren in _PARENTHESISED.finditer(title):
        who, when = _parse_parenthesised(paren[1])
        if when or who:
            contributor, iso = who, when
            text = (title[: paren.start()] + " " + title[paren.end() :]).strip()
            break
    if iso is None:
        iso, match = find_date(text)
        if match:
            text = (text[: match.start()] + " " + text[match.end() :]).strip()
    head, _, subtopic = text.partition(" - ")
    head = head.strip(" -:,")
    if contributor is None:
        honorific = _strip_honorific(head)
        if honorific:
            contributor, head = honorific
        elif iso and looks_like_name(head):
            contributor, head = head, ""
    topics = [html.unescape(p) for p in (head.strip(" -:,"), subtopic.strip(" -:,")) if p]
    return Heading(
        title=html.unescape(title),
        contributor=html.unescape(contributor) if contributor else None,
        date=iso,
        topics=topics,
    )
