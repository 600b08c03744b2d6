"""Resources written back as a list in the sample list's shape, which parses back the same."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field

from indexer.resources import resource_type
from indexer.sources.chat import tidy_text
from indexer.sources.headings import EMOJI_SHORTCODE, parse_heading
from indexer.sources.links import is_dangerous, looks_like_url, scan_links

DEFAULT_TITLE = "공유된 자료"


@dataclass
class EntryLink:
    url: str
    title: str = ""  # empty (or the URL itself): written as a bare address
    companions: list[EntryLink] = field(default_factory=list)  # nested under this link


@dataclass
class Entry:
    """One post: who and when, what they said, and the links they shared."""

    contributor: str | None
    date: str | None  # ISO YYYY-MM-DD
    note: str = ""
    links: list[EntryLink] = field(default_factory=list)
    time: str | None = None  # HH:MM, for the order only
    heading: str = ""  # the source's own heading, used when there is no contributor or date
    topic: str = ""  # what --group-by topic files it under
    source: str = ""
    line: int = 0


# ---------------------------------------------------------------------- escaping

# What the markdown reader (or a markdown viewer) would take for syntax inside prose, as
# character references, which both turn back into the character itself.
_INLINE_SYNTAX = re.compile(r"&(?=[#A-Za-z])|[\\<\[\]`*]|_{2,}|(?<!\w)_|_(?!\w)|~{2,}")
_BLOCK_START = re.compile(r"^(?:[#+\-|:=>]|\d{1,9}[.)](?=\s|$))")


def _reference(text: str) -> str:
    return "".join(f"&#{ord(char)};" for char in text)


def _inline(text: str) -> str:
    text = _INLINE_SYNTAX.sub(lambda match: _reference(match.group()), text)
    # ":fire:" as written, not a picture the reader leaves out
    return EMOJI_SHORTCODE.sub(lambda match: match.group().replace(":", "&#58;"), text)


def _escape_line(line: str) -> str:
    line = _inline(line)
    start = _BLOCK_START.match(line)
    if start:  # a heading, list item, table row or quote: its last character is the marker
        line = start.group()[:-1] + _reference(start.group()[-1]) + line[start.end() :]
    return line


def _escape_all(text: str) -> str:
    """Text with every ASCII punctuation character as a reference: no syntax at all."""
    return "".join(_reference(c) if c in string.punctuation else c for c in text)


def _prose(note: str) -> str:
    return "\n\n".join(
        "\n".join(_escape_line(line) for line in paragraph.split("\n"))
        for paragraph in tidy_text(note).split("\n\n")
    )


def _target(url: str) -> str:
    return url.replace("<", "%3C").replace(">", "%3E").replace("\n", "%0A")


def _link(link: EntryLink) -> str:
    if re.fullmatch(r"[^<>\s]+", link.url) and link.title in ("", link.url):
        return f"<{link.url}>"
    target = link.url if re.fullmatch(r"[^\s()<>]+", link.url) else f"<{_target(link.url)}>"
    return f"[{_inline(link.title or link.url)}]({target})"


# ---------------------------------------------------------------------- headings


def _reads_back(text: str, entry: Entry) -> bool:
    heading = parse_heading(text)
    who_when = heading.contributor == entry.contributor and heading.date == entry.date
    # Topics under a post would title its bare links, so a post's heading has none.
    plain = not heading.topics or not (entry.contributor or entry.date)
    return who_when and plain and not scan_links(text)


def entry_heading(entry: Entry) -> str:
    """`이름 (YYYY.MM.DD)` as the sample list writes it, in the first form that the
    heading reader gives back as the same contributor and date."""
    when = entry.date.replace("-", ".") if entry.date else ""
    candidates = []
    if entry.contributor:
        for name in dict.fromkeys((entry.contributor, _escape_all(entry.contributor))):
            forms = (f"{name} ({when})", f"{name}님 ({when})") if when else (f"{name}님",)
            candidates.extend(forms)
    elif when:
        candidates.append(f"({when})")
    else:
        candidates.extend(text for text in (entry.heading, _escape_all(entry.heading)) if text)
        candidates.append("-")
    return next((text for text in candidates if _reads_back(text, entry)), candidates[-1])


# ---------------------------------------------------------------------- writing


def _bullets(links: list[EntryLink], depth: int = 0) -> list[str]:
    lines = []
    for link in links:
        lines.append("  " * depth + "* " + _link(link))
        lines.extend(_bullets(link.companions, depth + 1))
    return lines


def write_entry(entry: Entry) -> str:
    """One post as a list section: heading, the note as prose, links as bullets."""
    parts = [f"## {entry_heading(entry)}"]
    if entry.note.strip():
        parts.append(_prose(entry.note))
    if entry.links:
        parts.append("\n".join(_bullets(entry.links)))
    return "\n\n".join(parts) + "\n"


def _group_label(entry: Entry, group_by: str) -> str:
    if group_by == "date":
        return f"{entry.date[:4]}년 {int(entry.date[5:7])}월" if entry.date else "날짜 없음"
    if group_by == "contributor":
        return entry.contributor or "이름 없음"
    return entry.topic or "기타"


def _order(entry: Entry, group_by: str | None) -> tuple:
    when = (entry.date or "9999", entry.time or "", entry.source, entry.line)
    if group_by == "contributor":
        return ((entry.contributor or "\uffff").casefold(), *when)
    if group_by == "topic":
        return (entry.topic, *when)
    return when


def write_list(
    entries: Iterable[Entry],
    group_by: str | None = None,
    title: str = DEFAULT_TITLE,
    left_out: int = 0,
) -> str:
    """A whole list, oldest post first or grouped; a group is a heading of its own with
    nothing under it, so it adds nothing to the posts that follow it."""
    sections = [f"# {_escape_all(title)}\n"]
    group = None
    for entry in sorted(entries, key=lambda entry: _order(entry, group_by)):
        if group_by and _group_label(entry, group_by) != group:
            group = _group_label(entry, group_by)
            sections.append(f"## {_escape_all(group)}\n")
        sections.append(write_entry(entry))
    if left_out:
        sections.append(f"<!-- {left_out} links that are not web addresses were left out -->\n")
    return "\n".join(sections)


# ---------------------------------------------------------------------- from resources


def entries_from_records(
    resources: Iterable[dict], notes: Iterable[dict] = ()
) -> tuple[list[Entry], int]:
    """Posts rebuilt from resource records (Resource.to_dict() or index documents) and
    link-less notes: the mentions one source made at one time with one note are one post.
    Also how many links were left out as not web addresses (javascript:, data:, file:)."""
    posts: dict[tuple, Entry] = {}
    placed: list[tuple[Entry, int, EntryLink, list[str]]] = []
    left_out = 0
    for resource in resources:
        if is_dangerous(resource["url"]):
            left_out += 1
            continue
        title = resource["title"]
        if title == resource["url"] or (
            resource.get("title_is_placeholder") and looks_like_url(title)
        ):
            title = ""  # a bare address: the page title may replace it once fetched
        topic = (resource.get("categories") or [resource.get("type") or ""])[0]
        for mention in resource["mentions"]:
            key = tuple(mention.get(k) for k in ("source", "contributor", "date", "time"))
            key += (mention.get("section") or "", mention.get("note") or "")
            entry = posts.get(key)
            if entry is None:
                entry = posts[key] = Entry(
                    contributor=mention.get("contributor"),
                    date=mention.get("date"),
                    note=mention.get("note") or "",
                    time=mention.get("time"),
                    heading=mention.get("section") or "",
                    topic=topic or resource_type(resource["url"]),
                    source=mention.get("source") or "",
                    line=mention.get("line") or 0,
                )
            link = EntryLink(resource["url"], title)
            placed.append((entry, mention.get("line") or 0, link, resource.get("companions", [])))
    _nest(placed)
    entries = list(posts.values())
    for note in notes:
        entries.append(
            Entry(
                contributor=note.get("contributor"),
                date=note.get("date"),
                note=note.get("text") or "",
                heading=note.get("section") or "",
                topic="note",
                source=note.get("source") or "",
                line=note.get("line") or 0,
            )
        )
    return entries, left_out


def _nest(placed: list[tuple[Entry, int, EntryLink, list[str]]]) -> None:
    """Each post's links in the order written; a link that an earlier one of the same post
    lists as posted with it goes under that one."""
    companions: dict[int, list[tuple[EntryLink, list[str]]]] = {}
    for entry, _, link, linked in sorted(placed, key=lambda item: item[1]):
        tops = companions.setdefault(id(entry), [])
        parent = next((top for top, urls in tops if link.url in urls), None)
        if parent is None:
            entry.links.append(link)
            tops.append((link, linked))
        else:
            parent.companions.append(link)


def write_records(docs: Iterable[dict], group_by: str | None = None) -> str:
    """An index's documents (resources and notes) as a list: `recall export --format md`."""
    docs = list(docs)
    entries, left_out = entries_from_records(
        [doc for doc in docs if doc.get("kind", "resource") == "resource"],
        [doc for doc in docs if doc.get("kind") == "note"],
    )
    return write_list(entries, group_by, left_out=left_out)
