"""Questions as every front end takes them (filters, dates, types, how many results) and the
answers as JSON-ready dicts: `recall search --json`, `recall related --json` and the JSON
API build theirs with these functions, so they cannot drift apart.

Light to import (argument parsers use it): nothing here loads the index or search code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

from indexer.hits import Filters, Hit
from indexer.resources import url_domain

_HONORIFIC_END = re.compile(r"\s*(님|씨)$")

TYPES = ("paper", "repo", "video", "book", "article", "pdf", "note", "other")
MAX_K = 100  # results per request in the JSON API


def iso_date(text: str) -> str:
    """A YYYY-MM-DD date, normalised; ValueError saying what is wrong otherwise."""
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError as exc:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD)") from exc


def make_filters(
    contributors: Iterable[str] = (),
    since: str | None = None,
    until: str | None = None,
    domains: Iterable[str] = (),
    types: Iterable[str] = (),
) -> Filters:
    """Filters from what a user typed: names and hosts as the index records them (empty
    ones filter nothing), dates must be dates and types known ones (ValueError
    otherwise)."""
    types = tuple(types)
    unknown = [t for t in types if t not in TYPES]
    if unknown:
        raise ValueError(f"unknown type {unknown[0]!r}; choose among {', '.join(TYPES)}")
    return Filters(
        contributors=tuple(
            dict.fromkeys(form for name in contributors for form in _as_listed(name))
        ),
        since=iso_date(since) if since and since.strip() else None,
        until=iso_date(until) if until and until.strip() else None,
        domains=tuple(domain for domain in map(_as_domain, domains) if domain),
        types=types,
    )


def _as_listed(name: str) -> tuple[str, ...]:
    """The forms a typed name may be listed under: " 이상훈님 " is 이상훈님 or, as headings
    give it, 이상훈 (a sender of a chat named 아저씨 keeps the 씨)."""
    name = name.strip()
    bare = _HONORIFIC_END.sub("", name).strip()
    return tuple(dict.fromkeys(form for form in (name, bare) if form))


def _as_domain(text: str) -> str:
    """A host as resources record it: "www.youtube.com", "YouTube.com/" and a pasted URL
    are youtube.com; ValueError for text that names no host."""
    text = text.strip().lower()
    if not text:
        return ""
    domain = url_domain(text if "://" in text else f"https://{text}")
    if not domain:
        raise ValueError(f"not a host name: {text!r} (e.g. youtube.com)")
    return domain


def related_answer(ref: str, hits: Sequence[Hit]) -> dict:
    """What `recall related --json` prints for one URL or id."""
    return {"of": ref, "results": [hit.to_dict() for hit in hits]}
