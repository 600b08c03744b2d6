"""A chat export read as resources: each shared link a mention with note, context, privacy."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from indexer.resources import Mention, SourceFile, normalize_url
from indexer.sources.accumulator import Accumulator, link_companions
from indexer.sources.kakao import ChatMessage, is_placeholder, read_export
from indexer.sources.links import Link, mask_spans
from indexer.sources.options import ReadOptions

# A web address in a chat message runs to the next space; KakaoTalk links it that way.
_CHAT_URL = re.compile(r"(?:https?|ftp)://[^\s<>\"]+|www\.[a-z0-9-]+\.[^\s<>\"]+", re.I)
_TRAILING = ".,;:!?'\"*~。、"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_SPACES = re.compile(r"[ \t]+")
_EDGES = " \t\n:：,;|/·-–—>)]([<"
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|<\s*>")  # where a link stood in brackets
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Korean mobile and area-code numbers (010-1234-5678, 02-123-4567, 01012345678) and
# international ones (+82 10 1234 5678); dates and version numbers do not have these shapes.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?\d{1,4}[ .-]?\d{3,4}[ .-]?\d{4}|0\d{1,2}[ .-]\d{3,4}[ .-]\d{4}"
    r"|01[016789]\d{7,8})(?!\w)"
)
MASKED_EMAIL, MASKED_PHONE = "(이메일 가림)", "(전화번호 가림)"
_CONTEXT_CHARS = 500  # of one earlier message


def tidy_text(text: str) -> str:
    """Text in the form a list keeps it: lines trimmed, spaces collapsed, one blank line
    between paragraphs (what the markdown reader gives back for the same prose)."""
    paragraphs, lines = [], []
    for line in text.splitlines():
        line = _SPACES.sub(" ", line).strip()
        if line:
            lines.append(line)
        elif lines:
            paragraphs.append("\n".join(lines))
            lines = []
    if lines:
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def chat_links(text: str) -> list[Link]:
    """The web addresses of a message, without the punctuation written after them."""
    links = []
    if "://" not in text and "www." not in text.lower():
        return links
    for match in _CHAT_URL.finditer(text):
        url = match.group().rstrip(_TRAILING)
        while url and url[-1] in _CLOSERS and url.count(_CLOSERS[url[-1]]) < url.count(url[-1]):
            url = url[:-1].rstrip(_TRAILING)
        target = "http://" + url if url.lower().startswith("www.") else url
        links.append(Link(match.start(), match.start() + len(url), target, target))
    return links


def mask_contacts(text: str) -> str:
    return _PHONE.sub(MASKED_PHONE, _EMAIL.sub(MASKED_EMAIL, text))


def pseudonym(name: str) -> str:
    """A stable stand-in for a member's name: the same name always gives the same one."""
    return "member-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


class _Privacy:
    """What the options hide: contacts, and with --pseudonymize every member's name."""

    def __init__(self, options: ReadOptions, members: set[str]):
        self.options = options
        self.names: re.Pattern | None = None
        self._lines: dict[int, str] = {}  # context lines by the line their message starts on
        named = sorted((m for m in members if len(m) >= 2), key=len, reverse=True)
        if options.pseudonymize and named:
            self.names = re.compile("|".join(map(re.escape, named)))

    def name(self, sender: str) -> str:
        return pseudonym(sender) if self.options.pseudonymize else sender

    def context_line(self, message: ChatMessage) -> str:
        """One earlier message as a line of context, "이름: what they said"; empty for photos,
        emoticons and the like. Kept: the messages before links near each other are asked
        for again and again."""
        line = self._lines.get(message.line)
        if line is None:
            line = ""
            if message.text.strip() and not is_placeholder(message.text):
                said = " ".join(message.text.split())
                if len(said) > _CONTEXT_CHARS:  # a pasted article is not a conversation
                    said = said[:_CONTEXT_CHARS].rstrip() + "…"
                line = f"{self.name(message.sender)}: {self.text(said)}"
            self._lines[message.line] = line
        return line

    def text(self, text: str) -> str:
        if not self.options.keep_contacts:
            text = mask_contacts(text)
        if self.names is not None:
            text = self.names.sub(lambda match: pseudonym(match.group()), text)
        return text


def read_chat(
    text: str, source: str, format_name: str, acc: Accumulator, options: ReadOptions
) -> SourceFile:
    """Add the links of one export to the parse; what it held, for the status view."""
    export = read_export(text, source, format_name)
    for line, message in export.warnings:
        acc.warn(source, line, message)
    messages = [m for m in export.messages if not options.excludes(m.sender)]
    members = {m.sender for m in messages}
    privacy = _Privacy(options, members)
    room = privacy.text(export.room)
    stats = SourceFile(source, export.format, messages=len(messages), members=len(members))
    if messages:
        stats.first_date = min(m.time for m in messages).date().isoformat()
        stats.last_date = max(m.time for m in messages).date().isoformat()
    for position, message in enumerate(messages):
        links = chat_links(message.text)
        if not links:
            continue
        # Identity of a message: room, minute, sender and words, whatever export it is in.
        minute = message.time.strftime("%Y-%m-%dT%H:%M")
        key = "\0".join((export.room, minute, message.sender, " ".join(message.text.split())))
        if key in acc.seen_messages:
            stats.duplicates += 1
            continue
        acc.seen_messages.add(key)
        note = _joined(
            _note(message.text, links), *_follow_ups(messages, position, options), privacy=privacy
        )
        mention_fields = {
            "contributor": privacy.name(message.sender),
            "date": message.time.date().isoformat(),
            "time": message.time.strftime("%H:%M"),
            "section": room,
            "note": note,
            "source": source,
            "line": message.line,
            "context": _context(messages, position, options, privacy),
        }
        unique: dict[str, Link] = {}  # a link written twice in one message is one mention
        for link in links:
            unique.setdefault(normalize_url(link.url), link)
        added = [
            acc.add(link, link.url, True, Mention(**mention_fields), []) for link in unique.values()
        ]
        link_companions(added)
        stats.links += len(added)
    return stats


def _note(text: str, links: list[Link]) -> str:
    """The message without its links; empty when only punctuation is left."""
    rest = mask_spans(text, [(link.start, link.end) for link in links])
    rest = tidy_text(_EMPTY_BRACKETS.sub("", rest)).strip(_EDGES)
    return rest if any(ch.isalnum() for ch in rest) else ""


def _joined(*parts: str, privacy: _Privacy) -> str:
    return "\n\n".join(privacy.text(part) for part in parts if part)


def _follow_ups(messages: list[ChatMessage], position: int, options: ReadOptions) -> list[str]:
    """The sender's link-less messages just after a link, until their next link."""
    first = messages[position]
    until = first.time + timedelta(minutes=options.follow_up_minutes)
    texts = []
    for index in range(position + 1, len(messages)):
        message = messages[index]
        if message.time > until:
            break
        if message.sender != first.sender or is_placeholder(message.text):
            continue
        if chat_links(message.text):
            break
        texts.append(tidy_text(message.text))
    return texts


def _context(
    messages: list[ChatMessage], position: int, options: ReadOptions, privacy: _Privacy
) -> str:
    """The conversation just before a link, each line with who said it."""
    since = messages[position].time - timedelta(minutes=options.context_minutes)
    lines: list[str] = []
    for index in range(position - 1, max(-1, position - 200), -1):
        if messages[index].time < since or len(lines) >= options.context_messages:
            break
        line = privacy.context_line(messages[index])
        if line:
            lines.append(line)
    return "\n".join(reversed(lines))
