"""Text to passages: a profile per resource or note, and page text in overlapping chunks."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

TARGET_WORDS = 200
MAX_WORDS = 300
OVERLAP_WORDS = 30
# A profile keeps its notes up to this many words; longer notes continue in
# "note" passages so that no model truncates them away.
PROFILE_NOTE_WORDS = 90

# Korean sentences end at 다. 요. etc. even without a following space; the period stays.
_SENTENCE_END = re.compile(r"(?<=[.!?。…])\s+|(?<=[다요죠음함임]\.)\s*|\n")


@dataclass(frozen=True)
class Passage:
    """One searchable piece of a resource: its profile, a note, or part of its page."""

    doc: str  # resource or note id
    kind: str  # "profile", "note" or "page"
    text: str  # shown as the snippet and indexed for keywords
    embed_text: str  # what the embedder sees (page passages carry their title)

    @property
    def hash(self) -> str:
        return hashlib.sha1(self.embed_text.encode("utf-8")).hexdigest()


def _words(text: str) -> list[str]:
    return text.split()


def _sentences(paragraph: str) -> list[str]:
    parts = [part.strip() for part in _SENTENCE_END.split(paragraph)]
    return [part for part in parts if part]


def _units(text: str) -> list[str]:
    """Paragraphs, cut into sentences and then into MAX_WORDS pieces where too long."""
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        pieces = [paragraph] if len(_words(paragraph)) <= MAX_WORDS else _sentences(paragraph)
        for piece in pieces:
            words = _words(piece)
            for start in range(0, len(words), MAX_WORDS):
                units.append(" ".join(words[start : start + MAX_WORDS]))
    return units


def split_passages(text: str) -> list[str]:
    """Text in passages of about TARGET_WORDS (never over MAX_WORDS), split on paragraph
    and sentence boundaries, each starting with the last OVERLAP_WORDS of the one before."""
    passages: list[str] = []
    current: list[str] = []
    fresh = 0  # words of `current` that no passage holds yet (the rest is overlap)
    for unit in _units(text):
        unit_words = _words(unit)
        if fresh and len(current) + len(unit_words) > MAX_WORDS:
            passages.append(" ".join(current))
            current = current[-OVERLAP_WORDS:] if len(current) > OVERLAP_WORDS else []
            fresh = 0
        # The overlap gives way to a unit it would push over MAX_WORDS; a passage of
        # overlap alone would only repeat the one before.
        room = MAX_WORDS - len(unit_words)
        if len(current) > room:
            current = current[len(current) - room :] if room > 0 else []
        current.extend(unit_words)
        fresh += len(unit_words)
        if len(current) >= TARGET_WORDS:
            passages.append(" ".join(current))
            current = current[-OVERLAP_WORDS:]
            fresh = 0
    if fresh:
        passages.append(" ".join(current))
    return passages


def _truncate_words(text: str, limit: int) -> tuple[str, str]:
    words = text.split(" ")
    if len(words) <= limit:
        return text, ""
    return " ".join(words[:limit]), " ".join(words[limit:])


def profile_passages(
    doc: str, header_lines: list[str], notes: list[str], page_summary: str = ""
) -> list[Passage]:
    """The profile (who, what, where, and the notes) plus overflow note passages."""
    note_text = "\n".join(dict.fromkeys(note for note in notes if note))
    kept, overflow = _truncate_words(note_text, PROFILE_NOTE_WORDS)
    profile = "\n".join(line for line in [*header_lines, kept, page_summary] if line)
    passages = [Passage(doc, "profile", profile, profile)]
    title = header_lines[0] if header_lines else ""
    for chunk in split_passages(overflow):
        passages.append(Passage(doc, "note", chunk, f"{title}\n{chunk}" if title else chunk))
    return passages


def page_passages(doc: str, title: str, text: str) -> list[Passage]:
    return [
        Passage(doc, "page", chunk, f"{title}\n{chunk}" if title else chunk)
        for chunk in split_passages(text)
    ]
