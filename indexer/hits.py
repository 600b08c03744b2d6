"""What a search takes and returns: the filters, the hits and the response, and the query
as it is searched (printable, normalised, within its limit). Light to import: argument
parsers and the app's controls use it without loading the index code."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field

from indexer.resources import filed_under

MODES = ("hybrid", "dense", "lexical")
# Controls read as spaces; lone surrogates too: argv decodes invalid UTF-8 to them, and
# the model's tokenizer cannot encode them (`recall search $'\xff'` ended in a
# UnicodeEncodeError).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Invisible format characters, taken out (G<zero-width space>A<zero-width space>N is GAN):
# the soft hyphen, zero-width spaces and joiners, bidirectional marks, overrides and
# isolates, word joiners, the byte order mark.
INVISIBLE = re.compile(r"[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# What reorders a terminal's line: bidirectional marks, embeddings, overrides and isolates.
BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Filters:
    """Resource filters; empty fields filter nothing."""

    contributors: tuple[str, ...] = ()
    since: str | None = None  # ISO date, inclusive
    until: str | None = None
    domains: tuple[str, ...] = ()
    types: tuple[str, ...] = ()

    def active(self) -> bool:
        return self.kinds_set() > 0

    def kinds_set(self) -> int:
        """How many kinds of filter are set (a span of dates counts once)."""
        kinds = (self.contributors, self.since or self.until, self.domains, self.types)
        return sum(bool(kind) for kind in kinds)

    def allows(self, doc: dict) -> bool:
        if self.contributors and not {c.casefold() for c in self.contributors} & {
            c.casefold() for c in doc["contributors"]
        }:
            return False
        if self.types and doc["type"] not in self.types:
            return False
        if self.domains and not any(
            doc["domain"] == d or doc["domain"].endswith("." + d) for d in self.domains
        ):
            return False
        if self.since or self.until:
            dates = [d for d in doc["dates"] if (not self.since or d >= self.since)]
            dates = [d for d in dates if (not self.until or d <= self.until)]
            if not dates:
                return False
        return True


@dataclass
class Hit:
    rank: int
    id: str
    url: str
    title: str
    score: float
    contributors: list[str]
    dates: list[str]
    categories: list[str]
    type: str
    domain: str
    fetch_status: str | None
    last_ok_at: str | None
    snippet: str
    matched: list[str]
    why: str
    kind: str = "resource"
    terms: list[str] = field(default_factory=list)  # query words found, for highlighting
    similarity: float | None = None  # the dense ranker's cosine, None if it did not return it
    coverage: float = 0.0  # share of the query's words it holds, as asked or through a bridge
    confidence: float | None = None  # P(relevant), calibrated per model; None: not known
    weak: bool = False  # below the calibrated threshold: shown as "less related"
    link_health: str | None = None  # ok, dead, unreachable, unchecked, unfetchable (linkhealth)
    also_at: list[str] = field(default_factory=list)  # its page's other addresses
    filed_under: list[str] = field(default_factory=list)  # its lists and headings (filed_under)

    @classmethod
    def of(
        cls,
        doc: dict,
        rank: int,
        score: float,
        snippet: str,
        matched: list[str],
        why: str,
        several_lists: bool,
        **more,
    ) -> Hit:
        """The hit of the resource the index records as `doc`, in an index of `several_lists`
        or of one; `more`: the query's measures of it (terms, similarity, coverage,
        confidence, weak, also_at)."""
        return cls(
            rank=rank,
            id=doc["id"],
            url=doc["url"],
            title=doc["title"],
            score=round(float(score), 6),
            contributors=doc["contributors"],
            dates=doc["dates"],
            categories=doc["categories"],
            type=doc["type"],
            domain=doc["domain"],
            fetch_status=doc.get("fetch_status"),
            last_ok_at=doc.get("last_ok_at"),
            snippet=snippet,
            matched=matched,
            why=why,
            kind=doc["kind"],
            link_health=doc.get("link_health"),
            filed_under=filed_under(doc, several_lists),
            **more,
        )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SearchResponse:
    query: str
    took_ms: float
    results: list[Hit]
    message: str | None = None
    truncated: bool = False
    no_close_match: bool = False  # every hit is weak, or none: nothing in the index answers well
    # the glossary terms the query names that no resource holds, in either language
    absent_terms: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "took_ms": self.took_ms,
            "results": [hit.to_dict() for hit in self.results],
            "message": self.message,
            "truncated": self.truncated,
            "no_close_match": self.no_close_match,
            "absent_terms": self.absent_terms,
        }


def clean_query(query: str, limit: int) -> tuple[str, bool]:
    """Printable, normalised query text within `limit` characters (and whether it was cut)."""
    query = unicodedata.normalize("NFKC", CONTROL.sub(" ", INVISIBLE.sub("", query or "")))
    query = " ".join(query.split())
    if len(query) > limit:
        return query[:limit], True
    return query, False
