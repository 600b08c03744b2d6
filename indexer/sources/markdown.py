"""The markdown list parser: turns community resource lists into resources and notes."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from indexer.resources import Mention, Note, ParseResult, Resource, stable_id
from indexer.sources.accumulator import Accumulator, link_companions
from indexer.sources.headings import Heading, clean_inline, parse_heading
from indexer.sources.links import (
    Link,
    choose_title,
    context_label,
    mask_spans,
    scan_links,
)

# ------------------------------------------------------------------- blocks

_LINE_END = re.compile(r"\r\n|\r|\n")
_LIST_ITEM = re.compile(
    r"^(?P<indent>[ \t]*)(?P<marker>[*+-]|\d{1,9}[.)])(?:[ \t]+|$)(?P<rest>.*)$"
)
# The closing #s are stripped with rstrip: a lazy `.*?` before `[ \t#]*$` made a long
# heading of spaces and #s quadratic (seconds for 20 kB).
_HEADING = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?:[ \t]+|$)(?P<text>.*)$")
_LEVEL_ONE_HEADING = re.compile(r"^ {0,3}#(?!#)")  # the document's title, if it is the only one
_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})")  # indented too: inside list items
# Possessive spaces: with `\s*\|?\s*` a line indented by n spaces took n² steps.
_TABLE_SEPARATOR = re.compile(r"^\s*+\|?\s*+:?-+:?\s*+(\|\s*+:?-+:?\s*+)*\|?\s*+$")
_TAG_PREFIX = re.compile(r"^\s*\[(?P<tag>[^\[\]()]{1,20})\](?=\s*(\[|<|http))")
_INLINE_CONTRIBUTOR = re.compile(r"^\s*(?P<name>[^\s:：]{1,20}?)\s*(님|씨)\s*[:：]\s*$")
_COLUMN_GAP = re.compile(r"\t+|\s{3,}")
# A table of contents heads the list's navigation, not a topic of the sections under it
_CONTENTS_HEADINGS = frozenset({"table of contents", "contents", "toc", "목차", "차례"})
_CELL_END = re.compile(r"(?<!\\)\|")  # a table cell ends at a "|" not escaped as "\|"
_NUMERIC_CELL = re.compile(r"[\d\s.,~-]+")  # a table cell of numbers, dates or ranges
_BROKEN_BARE_LINK = re.compile(r"\]\s*https?://")  # "[text] https://…": no parentheses
# A link reference definition (CommonMark): "[label]: url", the url maybe in <>, maybe a
# title after it (a url: not "[참고]: 위키"); and a reference to one: [text][label],
# [label][] or [label] alone (no "(" or ":" after it: that is an inline link or a definition).
_DEFINITION = re.compile(
    r"[ \t]*\[(?P<label>[^\[\]\n]{1,999})\]:[ \t]*"
    r"(?:<(?P<bracketed>[^<>\n]+)>|(?P<url>(?:[a-zA-Z][a-zA-Z0-9+.-]*:|www\.|\.{0,2}/|#)\S*))"
    r"(?:[ \t]+(?P<title>\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*"
)
_REFERENCE = re.compile(
    r"(?P<image>!?)\[(?P<text>(?:[^\[\]\n]++|\[[^\[\]\n]*+\])*+)\]"
    r"(?:\[(?P<label>[^\[\]\n]*+)\])?(?![(:])"
)
# `[x]` is code, no reference; a span opens and closes with runs of as many backticks (run
# starts only: a long run of backticks is not tried from each of its backticks)
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)[^`]+?(?<!`)\1(?!`)")
# "Title" over a line of = (level 1) or - (level 2) is a heading; ***, --- or ___ on a line
# of their own (spaces between allowed) are a thematic break, which separates and says nothing.
_SETEXT_UNDERLINE = re.compile(r" {0,3}(?P<rule>=+|-{2,})[ \t]*")
_THEMATIC_BREAK = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})")
_RULE_HINTS = ("--", "==", "**", "__", "* *", "- -", "_ _")  # a file without any has neither
# A "---" first line closed within _FRONT_MATTER_LINES is YAML front matter when its first
# line is a key ("title: …") and every other one a key, an indented line or blank, and none
# holds a link: "---", "# Awesome", "- [A](…)", "---" is a list between two breaks.
_FRONT_MATTER_LINES = 200
_YAML_KEY = re.compile(r"[\w.-]+[ \t]*:(?:[ \t].*)?")
_YAML_MORE = re.compile(r"(?:[ \t]+\S.*)?")
# "> " of a block quote, "> > " nested, indented too (a quote inside a list item)
_QUOTE_MARKERS = re.compile(r"(?P<indent>[ \t]*)>(?:[ \t]*>)*[ \t]?")
# <h2 align="center">Papers</h2> on a line of its own is "## Papers" (other tags in it go,
# its links stay); "[ ] " or "[x] " opening a list item is a task list's box, no tag.
_HTML_HEADING = re.compile(
    r"[ \t]*<h(?P<level>[1-6])\b[^<>]*>(?P<text>.*?)</h(?P=level)\s*>[ \t]*", re.I
)
_HTML_TAG = re.compile(r"</?(?!a\b)[a-z][^<>]*>", re.I)
# A collapsible block's label ("<details><summary>Older papers</summary>"), and its end
_SUMMARY = re.compile(
    r"[ \t]*(?:<details\b[^<>]*>[ \t]*)?<summary\b[^<>]*>(?P<text>.*?)</summary\s*>[ \t]*", re.I
)
_DETAILS_END = re.compile(r"[ \t]*</details\s*>[ \t]*", re.I)
_TASK_BOX = re.compile(r"\[[ xX]\][ \t]+")
# Bullets nested deeper than this join the deepest level: the item tree is walked
# recursively, and a list indented 1,000 levels deep must not exhaust the stack.
MAX_NESTING = 100


def _indent_width(indent: str) -> int:
    return len(indent.replace("\t", "    "))


def _leading_space(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


@dataclass
class _Item:
    """A list item, a paragraph or a table row: text with its own line numbers."""

    text: str
    line: int
    indent: int = 0
    children: list[_Item] = field(default_factory=list)
    row_context: list[str] = field(default_factory=list)  # other cells of a table row
    row_note: str = ""
    paragraph: bool = False  # prose lines rather than a list item or table row
    table_row: bool = False
    code: bool = False  # a fenced block: text of the post, its URLs never links
    # Lines that continue the text, joined by finish(): += on a paragraph of a million lines
    # copied it a million times (minutes).
    more: list[str] = field(default_factory=list, repr=False, compare=False)
    # Filled on first use: plain attributes, not functools.cached_property, which takes a
    # lock on each item's first read under Python 3.11 (a list has thousands of items).
    _links: list[Link] | None = field(default=None, init=False, repr=False, compare=False)
    _newlines: list[int] | None = field(default=None, init=False, repr=False, compare=False)

    def finish(self) -> None:
        """Join the continuation lines to the text, in this item and under it."""
        if self.more:
            self.text = "\n".join([self.text, *self.more])
            self.more = []
        for child in self.children:
            child.finish()

    @property
    def links(self) -> list[Link]:
        """Scanned once the item is complete; items are never edited after parsing."""
        if self._links is None:
            self._links = [] if self.code else scan_links(self.text)
        return self._links

    @property
    def resource_links(self) -> list[Link]:
        """Its links but those to a place on the same page ("#books", "back to top"): a
        table of contents is the list's navigation, not resources or notes."""
        return [link for link in self.links if not link.url.startswith("#")]

    def line_of(self, offset: int) -> int:
        # A bisection, not a count: an item of a megabyte may hold thousands of links.
        if self._newlines is None:
            self._newlines = [match.start() for match in re.finditer("\n", self.text)]
        return self.line + bisect.bisect_left(self._newlines, offset)


@dataclass
class _Section:
    heading: Heading
    line: int
    items: list[_Item] = field(default_factory=list)
    code_with_urls: list[int] = field(default_factory=list)  # lines of such code blocks

    def finished(self) -> _Section:
        for item in self.items:
            item.finish()
        return self


def _split_cells(row: str) -> list[str]:
    row = row.strip()
    row = row.removeprefix("|")
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    # "\|" is a "|" of the cell's text, as GitHub shows it
    return [cell.strip().replace("\\|", "|") for cell in _CELL_END.split(row)]


def _sections(lines: list[str], doc_title_level: int | None) -> Iterator[_Section]:
    """Split a file into sections by heading, each holding items, paragraphs and rows."""
    section = _Section(Heading(), 1)
    stack: list[_Item] = []  # open list items, innermost last
    paragraph: _Item | None = None
    headings: dict[int, Heading] = {}
    closers = _fence_closers(lines)
    previous_blank = True
    index = 0
    while index < len(lines):
        raw = lines[index]
        number = index + 1
        index += 1
        closing = _closing_fence(lines, index - 1, closers)
        if closing is not None:  # code: no headings, lists or links inside, only its text
            indent = _indent_width(_leading_space(raw))
            code = _Item("\n".join(lines[index:closing]), number, indent, code=True)
            if scan_links(code.text):
                section.code_with_urls.append(number)
            index = closing + 1
            if stack and (not previous_blank or indent > stack[-1].indent):
                stack[-1].children.append(code)  # under the list item it continues
            else:
                code.paragraph = True
                section.items.append(code)
                stack = []
            paragraph, previous_blank = None, True
            continue
        heading = _HEADING.match(raw)
        if heading:
            yield section.finished()
            level = len(heading["hashes"])
            heading_text = heading["text"].rstrip(" \t#")
            headings = {lvl: h for lvl, h in headings.items() if lvl < level}
            contents = context_label(heading_text).casefold() in _CONTENTS_HEADINGS
            if level != doc_title_level and not contents:
                headings[level] = parse_heading(heading_text)
            section = _Section(Heading.combine(list(headings.values())), number)
            if scan_links(heading_text):
                section.items.append(_Item(heading_text, number))
            stack, paragraph, previous_blank = [], None, True
            continue
        if not raw.strip():
            paragraph, previous_blank = None, True
            continue
        if (
            "|" in raw
            and index < len(lines)
            and _TABLE_SEPARATOR.match(lines[index])
            and "-" in lines[index]
        ):
            header = _split_cells(raw)
            if scan_links(raw):  # a header cell may hold a link too
                section.items.append(_Item(raw.strip(), number, table_row=True))
            index += 1
            while index < len(lines) and "|" in lines[index] and lines[index].strip():
                cells = _split_cells(lines[index])
                section.items.append(_table_row(cells, header, lines[index], index + 1))
                index += 1
            stack, paragraph, previous_blank = [], None, True
            continue
        item_match = _LIST_ITEM.match(raw)
        if item_match and not _TABLE_SEPARATOR.match(raw):
            rest = item_match["rest"]
            box = _TASK_BOX.match(rest)
            item = _Item(
                rest[box.end() :] if box else rest, number, _indent_width(item_match["indent"])
            )
            while stack and stack[-1].indent >= item.indent:
                stack.pop()
            if len(stack) >= MAX_NESTING:
                stack.pop()
            (stack[-1].children if stack else section.items).append(item)
            stack.append(item)
            paragraph, previous_blank = None, False
            continue
        indent = _indent_width(_leading_space(raw))
        if stack and (not previous_blank or indent > stack[-1].indent):
            # continuation of the innermost open list item (lazy or indented)
            stack[-1].more.append(raw.strip())
        elif paragraph is not None:
            paragraph.more.append(raw.strip())
        else:
            stack = []
            paragraph = _Item(raw.strip(), number, paragraph=True)
            section.items.append(paragraph)
        previous_blank = False
    yield section.finished()


def _fence_closers(lines: list[str]) -> dict[str, tuple[list[int], list[int]]]:
    """The lines that can close a code block, by fence character: a fence and nothing else
    (their indices, ascending, and their fences' lengths), found in one pass."""
    closers: dict[str, tuple[list[int], list[int]]] = {"`": ([], []), "~": ([], [])}
    for index, line in enumerate(lines):
        fence = _FENCE.match(line)
        if fence and not line[fence.end() :].strip():
            at, lengths = closers[fence["fence"][0]]
            at.append(index)
            lengths.append(len(fence["fence"]))
    return closers


def _closing_fence(
    lines: list[str], at: int, closers: dict[str, tuple[list[int], list[int]]]
) -> int | None:
    """Where the code block that line `at` opens is closed (a line of as many or more of
    the same fence characters and nothing else), or None: not a fence (```` ```pip``` ````
    is inline code: a backtick fence's words hold no backtick), or one never closed, whose
    line is then read as text (a stray ``` does not swallow the rest of the file)."""
    opening = _FENCE.match(lines[at])
    if opening is None:
        return None
    fence = opening["fence"]
    if fence[0] == "`" and "`" in lines[at][opening.end() :]:
        return None
    indices, lengths = closers[fence[0]]
    for candidate in range(bisect.bisect_right(indices, at), len(indices)):
        if lengths[candidate] >= len(fence):
            return indices[candidate]
    return None


def _outside_code(lines: list[str]) -> Iterator[int]:
    """The indices of the lines that are not in a fenced code block."""
    closers = _fence_closers(lines)
    index = 0
    while index < len(lines):
        closing = _closing_fence(lines, index, closers)
        if closing is not None:
            index = closing + 1
            continue
        yield index
        index += 1


def _front_matter_end(lines: list[str]) -> int:
    """How many lines YAML front matter ("---" ... "---" or "...") takes at the top: 0 if none."""
    if len(lines) < 3 or lines[0].rstrip() != "---" or not _YAML_KEY.fullmatch(lines[1]):
        return 0
    for index in range(1, min(len(lines), _FRONT_MATTER_LINES)):
        line = lines[index]
        if line.rstrip() in ("---", "..."):
            return index + 1
        if (
            "](" in line
            or "<a " in line
            or not (_YAML_KEY.fullmatch(line) or _YAML_MORE.fullmatch(line))
        ):
            return 0
    return 0


def _paragraph_line(line: str) -> bool:
    """Whether `line` can be a line of a paragraph: text, not another block's opening."""
    return bool(
        line.strip()
        and _indent_width(_leading_space(line)) < 4
        and "|" not in line  # a table's row: a "---" under it is a break
        and not line.lstrip().startswith((">", "<"))  # a quote's, an HTML block's
        and not _LIST_ITEM.match(line)
        and not _HEADING.match(line)
        and not _FENCE.match(line)
        and not _SETEXT_UNDERLINE.fullmatch(line)
        and not _THEMATIC_BREAK.fullmatch(line)
    )


def _setext_headings(lines: list[str]) -> list[str]:
    """Setext headings written as ATX ones (a paragraph over "===" is "# paragraph", over
    "---" "## paragraph"), thematic breaks and YAML front matter as blank lines, outside code.
    A paragraph that continues a list item or a quote, or is indented (inside a list item),
    is no heading, nor are lines of links over "---": that "---" is a break. Line numbers do
    not move."""
    top = _front_matter_end(lines)
    outside = {index for index in _outside_code(lines) if index >= top}
    resolved = [""] * top + lines[top:]  # front matter is a site's settings, not a list's text
    for index in sorted(outside):
        underline = _SETEXT_UNDERLINE.fullmatch(lines[index])
        if underline:
            start = index
            while start - 1 in outside and _paragraph_line(lines[start - 1]):
                start -= 1
            # code ends a block; so does a heading made just above ("Title", "===", "Sub", "---")
            before = resolved[start - 1] if start - 1 in outside else ""
            opens = start == top or not before.strip() or bool(_HEADING.match(before))
            text_lines = lines[start:index]
            flush = start < index and not text_lines[0][:1].isspace()
            links = underline["rule"][0] == "-" and any(map(scan_links, text_lines))
            if flush and not links and (opens or _THEMATIC_BREAK.fullmatch(before)):
                level = "#" if underline["rule"][0] == "=" else "##"
                text = " ".join(line.strip() for line in text_lines)
                resolved[start : index + 1] = [f"{level} {text}", *[""] * (index - start)]
                continue
        if _THEMATIC_BREAK.fullmatch(lines[index]):
            resolved[index] = ""
    return resolved


def _plain_markdown(lines: list[str]) -> list[str]:
    """Block quotes read as what they quote: each line outside code without its ">"
    markers (its indent kept: it says where the quote belongs), so that a quoted list is a
    list and a quoted fence a code block, if it closes in the quote (one never closed there
    stays text, as does a quoted heading: it heads nothing outside the quote); and HTML
    headings as markdown ones. A collapsible block's summary heads its links one level
    below the heading it is under, which heads the links again after the block (a
    summary is not prose of every link of the section). Line numbers do not move."""
    resolved = list(lines)
    quote: list[tuple[int, str]] = []  # the block quote being read: its lines, unmarked
    heading: str | None = None  # the heading the line being read is under
    # the heading each open collapsible block is under, and its summary's level
    under: list[tuple[str | None, int]] = []
    for index in _outside_code(lines):
        line = lines[index]
        marker = _QUOTE_MARKERS.match(line)
        unmarked = [(index, marker["indent"] + line[marker.end() :])] if marker else []
        if marker and (not quote or quote[-1][0] == index - 1):
            quote += unmarked
            continue
        _unquote(quote, resolved)
        quote = unmarked
        if "<h" in line or "<H" in line:
            resolved[index] = _html_heading(line)
        if line.startswith("<"):  # a block of its own (indented, it is a list item's text)
            resolved[index] = _collapsible(resolved[index], heading, under)
        if _HEADING.match(resolved[index]):
            heading = resolved[index]
    _unquote(quote, resolved)  # a quote that ends the file
    return resolved


def _html_text(fragment: str) -> str:
    """What an HTML fragment reads as: its words without their tags, on one line."""
    return " ".join(_HTML_TAG.sub(" ", fragment).split())


def _html_heading(line: str) -> str:
    """An HTML heading on a line of its own as a markdown one; any other line as it is."""
    html_heading = _HTML_HEADING.fullmatch(line)
    if not html_heading:
        return line
    return "#" * int(html_heading["level"]) + " " + _html_text(html_heading["text"])


def _collapsible(line: str, heading: str | None, under: list[tuple[str | None, int]]) -> str:
    """A collapsible block's summary as a heading below `heading` (kept in `under`), and
    its end as that heading again; under a document's title (level 1, not repeated) or no
    heading, as a heading of nothing. Any other line as it is."""
    summary = _SUMMARY.fullmatch(line)
    if summary:
        text = _html_text(summary["text"])
        level = min(len(_HEADING.match(heading)["hashes"]) + 1 if heading else 2, 6)
        under.append((heading, level))
        return "#" * level + " " + text if text else ""
    if _DETAILS_END.fullmatch(line) and under:
        reopened, level = under.pop()
        if reopened is not None and not _LEVEL_ONE_HEADING.match(reopened):
            return reopened
        return "#" * level
    return line


def _unquote(quote: list[tuple[int, str]], resolved: list[str]) -> None:
    """One block quote's lines (index, text without its markers) written into `resolved`."""
    if not quote:
        return
    texts = [text for _, text in quote]
    closers = _fence_closers(texts)
    position = 0
    while position < len(texts):
        closing = (
            _closing_fence(texts, position, closers) if _FENCE.match(texts[position]) else None
        )
        if closing is not None:  # a code block that closes in the quote: code as written
            for inner in range(position, closing + 1):
                resolved[quote[inner][0]] = texts[inner]
            position = closing + 1
            continue
        text = texts[position]
        if _THEMATIC_BREAK.fullmatch(text):
            resolved[quote[position][0]] = ""
        elif not _FENCE.match(text) and not _HEADING.match(text):
            resolved[quote[position][0]] = text
        position += 1


def _label_key(label: str) -> str:
    return " ".join(label.split()).casefold()  # [Deep  Learning] is [deep learning]


def _resolve_references(lines: list[str]) -> list[str]:
    """Reference links written as inline ones: [text][label] -> [text](<url>) where a line
    "[label]: url" defines the label (the first definition wins). A definition used by a
    reference becomes a blank line; any other (unused, or a label's later one) becomes a
    link titled by its title or its label. An undefined [label] ("[논문]") stays text. Line
    numbers do not move."""
    prose = list(_outside_code(lines))
    outside = set(prose)
    written = []  # every definition: (line index, key, label, url, title)
    for index in prose:
        found = _DEFINITION.fullmatch(lines[index])
        # A definition cannot go on a paragraph or a list item ("- Title" then "[논문]: url"
        # under it is text): the line before ends a block, or is a definition too.
        before = lines[index - 1] if index - 1 in outside else ""
        follows = bool(written) and written[-1][0] == index - 1
        if found and (not before.strip() or _HEADING.match(before) or follows):
            url = found["bracketed"] or found["url"]
            title = (found["title"] or "")[1:-1].strip()
            written.append((index, _label_key(found["label"]), found["label"], url, title))
    if not written:
        return lines
    definitions: dict[str, tuple[int, str]] = {}  # key -> (line index, url)
    for index, key, _, url, _ in written:
        definitions.setdefault(key, (index, url))
    used: set[str] = set()

    def inline(reference: re.Match) -> str:
        key = _label_key(reference["label"] or reference["text"])
        if key not in definitions:
            return reference.group()
        used.add(key)
        text = reference["text"]
        if "[" in text:  # [![badge][badge-image]][badge-link]
            text = _REFERENCE.sub(inline, text)
        return f"{reference['image']}[{text}](<{definitions[key][1]}>)"

    def outside_code_spans(line: str) -> str:
        parts, position = [], 0
        for span in _CODE_SPAN.finditer(line):
            parts += [_REFERENCE.sub(inline, line[position : span.start()]), span.group()]
            position = span.end()
        return "".join([*parts, _REFERENCE.sub(inline, line[position:])])

    resolved = list(lines)
    at = {index for index, *_ in written}
    for index in prose:
        if index not in at and "[" in lines[index]:
            resolved[index] = outside_code_spans(lines[index])
    for index, key, label, url, title in written:
        if key in used and definitions[key][0] == index:
            resolved[index] = ""
        else:  # unused, or a later one of a label; "[1]: url" names nothing: its page will
            named = title or label
            link = f"[{named}](<{url}>)" if any(map(str.isalpha, named)) else f"<{url}>"
            resolved[index] = _leading_space(lines[index]) + link
    return resolved


def _table_row(cells: list[str], header: list[str], raw: str, number: int) -> _Item:
    context, note_parts = [], []
    for position, cell in enumerate(cells):
        if not cell or scan_links(cell):
            continue
        name = header[position] if position < len(header) else ""
        if not _NUMERIC_CELL.fullmatch(cell):
            context.append(cell)
        note_parts.append(f"{clean_inline(name)}: {clean_inline(cell)}" if name else cell)
    return _Item(
        raw.strip(), number, row_context=context, row_note="; ".join(note_parts), table_row=True
    )


# ------------------------------------------------------------------ the parse


def says_something(text: str) -> bool:
    """Whether `text` holds a letter, a digit or a symbol such as 👍 or ★ of any script:
    a placeholder bullet ("-", "[]", "...") says nothing."""
    return any(char.isalnum() or unicodedata.category(char) == "So" for char in text)


def _join_notes(*parts: str) -> str:
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


class _FileParser:
    def __init__(self, acc: Accumulator, source: str):
        self.acc = acc
        self.source = source

    def parse(self, text: str) -> None:
        # Markdown's line endings only: str.splitlines would also break a line at a form
        # feed, U+0085 or U+2028 inside a link's text, and cut the link in two.
        lines = _LINE_END.split(text.removesuffix("\n").removesuffix("\r"))
        if "]:" in text:
            lines = _resolve_references(lines)
        if any(rule in text for rule in _RULE_HINTS):
            lines = _setext_headings(lines)  # before quotes lose their ">": no heading in one
        if ">" in text:  # block quotes, HTML headings
            lines = _plain_markdown(lines)
        h1_lines = [line for line in lines if _LEVEL_ONE_HEADING.match(line)]
        doc_title_level = 1 if len(h1_lines) == 1 and lines and lines[0] == h1_lines[0] else None
        for section in _sections(lines, doc_title_level):
            self._section(section)

    def _section(self, section: _Section) -> None:
        for line in section.code_with_urls:
            self.acc.warn(self.source, line, "URLs inside a code block are not indexed as links")
        prose: list[str] = []
        linked: list[tuple[_Item, str]] = []  # items with links, and their label context
        self._collect(section.items, "", prose, linked)
        section_note = _join_notes(*prose)
        if not says_something(section_note):  # placeholder bullets: no note
            section_note = ""
        heading = section.heading
        if not linked:
            if section_note:
                self.acc.result.notes.append(
                    Note(
                        id=stable_id(f"{self.source}:{section.line}:{section_note}"),
                        section=heading.title,
                        contributor=heading.contributor,
                        date=heading.date,
                        text=section_note,
                        source=self.source,
                        line=section.line,
                    )
                )
            return
        for item, label in linked:
            self._item(item, section, section_note, label, parent=None)

    def _collect(self, items: list[_Item], label: str, prose: list[str], linked) -> None:
        """Sort items into link-bearing ones and prose; link-less parents label children."""
        for item in items:
            if item.paragraph and item.links:
                for line in _paragraph_lines(item):
                    if line.resource_links:
                        linked.append((line, label))
                    elif line.text.strip() and not line.links:
                        prose.append(clean_inline(line.text))
            elif item.resource_links:
                linked.append((item, label))
            elif item.links and not _has_links(item.children):
                continue  # navigation
            elif _has_links(item.children):
                self._collect(item.children, context_label(item.text) or label, prose, linked)
            else:
                if not item.code:  # code may well hold "](" that is no link
                    self._check_syntax(item, [])
                prose.append(_flatten(item))

    def _item(
        self, item: _Item, section: _Section, section_note: str, label: str, parent
    ) -> list[Resource]:
        links = item.resource_links
        self._check_syntax(item, item.links)
        nested_text = [_flatten(child) for child in item.children if not _has_links([child])]
        lead = "" if item.table_row else context_label(item.text[: links[0].start])
        contributor = section.heading.contributor
        inline = _INLINE_CONTRIBUTOR.match(item.text[: links[0].start]) if links else None
        if inline:
            contributor, lead = clean_inline(inline["name"]), ""
        topic = section.heading.topics
        categories = list(topic)
        tag = _TAG_PREFIX.match(item.text)
        if tag:
            categories.append(tag["tag"].strip())
            lead = context_label(lead.replace(f"[{tag['tag']}]", "", 1))
        columns = [c for c in _COLUMN_GAP.split(item.text[: links[0].start]) if c.strip()]
        if len(columns) >= 2:  # "* 카테고리   Title   [url](url)"
            categories.append(context_label(columns[0]))
            lead = context_label(" ".join(columns[1:]))
        if label:
            categories.append(label)
        resources = []
        for position, link in enumerate(links):
            following_end = (
                links[position + 1].start if position + 1 < len(links) else len(item.text)
            )
            previous_end = links[position - 1].end if position else 0
            before, after = (
                item.text[previous_end : link.start],
                item.text[link.end : following_end],
            )
            if item.table_row:
                # The rest of a row's cells are its context and its note (row_context,
                # row_note): here, only the link's own cell.
                local = _CELL_END.split(before)[-1]
                after = _CELL_END.split(after, maxsplit=1)[0].replace("\\|", "|")
            else:
                local = before.rsplit("\n", 1)[-1] if position else ""
            if not position:
                first_local = local  # what names the item, with its first link's text
            earlier = [links[0].text, first_local] if position else []
            title, placeholder = choose_title(
                link.text,
                link.url,
                [local, lead, *item.row_context, label],
                [local, lead, *earlier, *item.row_context, label, *topic[-1:], link.badge],
            )
            own_note = _note_text(after)
            mention = Mention(
                contributor=contributor,
                date=section.heading.date,
                section=section.heading.title,
                note=_join_notes(own_note, *nested_text, item.row_note, section_note),
                source=self.source,
                line=item.line_of(link.start),
            )
            resources.append(self.acc.add(link, title, placeholder, mention, categories))
        link_companions(resources)
        if parent is not None:
            for resource in resources:
                link_companions([parent, resource])
        primary = resources[0] if resources else parent
        self._children(item.children, section, section_note, label, primary)
        return resources

    def _check_syntax(self, item: _Item, links: list[Link]) -> None:
        """Warn where broken link syntax may have cost a link its title or target."""
        residual = mask_spans(
            item.text, [(link.start, link.end) for link in links if link.text != link.url]
        )
        if "](" in residual or _BROKEN_BARE_LINK.search(residual):
            self.acc.warn(
                self.source,
                item.line,
                "malformed markdown link (unbalanced brackets); kept what could be read",
            )

    def _children(self, children, section, section_note, label, parent) -> None:
        """Links nested under a link are its companions; text labels pass down as context."""
        for child in children:
            if child.resource_links:
                self._item(child, section, section_note, label, parent)
            elif _has_links(child.children):
                child_label = context_label(child.text) or label
                self._children(child.children, section, section_note, child_label, parent)


def _paragraph_lines(paragraph: _Item) -> list[_Item]:
    """A prose paragraph line by line: each line's links take their title from that line."""
    if any("\n" in paragraph.text[link.start : link.end] for link in paragraph.links):
        return [paragraph]
    return [
        _Item(text, paragraph.line + offset)
        for offset, text in enumerate(paragraph.text.split("\n"))
    ]


_NOTE_TRAIL = " \t\n:：,;|/·-–—"


def _note_text(text: str) -> str:
    """Text around a link as a note: empty when it is only punctuation."""
    if not text:  # what follows most links
        return ""
    text = clean_inline(text).lstrip(_NOTE_TRAIL + ")]")
    # Cut at the end: punctuation, and brackets closing the one the link stood in ("(see
    # [A](url))") or opening the next link's ("모음 ([GitHub](url))"), not the note's own.
    unmatched = {}
    for opening, closing in ("()", "[]"):
        excess = text.count(closing) - text.count(opening)
        unmatched[closing], unmatched[opening] = excess, -excess
    end = len(text)
    while end and (text[end - 1] in _NOTE_TRAIL or unmatched.get(text[end - 1], 0) > 0):
        if text[end - 1] in unmatched:
            unmatched[text[end - 1]] -= 1
        end -= 1
    text = text[:end]
    return text if any(ch.isalnum() for ch in text) else ""


def _has_links(items: list[_Item]) -> bool:
    return any(item.resource_links or _has_links(item.children) for item in items)


def _flatten(item: _Item) -> str:
    """An item and its descendants as plain note text (code as it is written)."""
    parts = [item.text.strip() if item.code else clean_inline(item.text)]
    parts.extend(_flatten(child) for child in item.children)
    return "\n".join(part for part in parts if part)


def parse_text(text: str, source: str, acc: Accumulator | None = None) -> ParseResult:
    """Parse one list given as text; used by tests and by the file dispatch."""
    acc = acc or Accumulator()
    _FileParser(acc, source).parse(text)
    return acc.result
