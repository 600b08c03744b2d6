"""What an index records of each resource and note: its stored record (what the lists say
and what its page said), the kinds it is and whether it is thin, its keyword fields, and
its passages."""

from __future__ import annotations

import re

from indexer.chunk import Passage, page_passages, profile_passages
from indexer.lexical import FIELDS, FieldIndex
from indexer.query import type_words
from indexer.resources import Note, Resource, duplicate_key, headings
from indexer.store import IndexReader
from indexer.tokencache import TokenCache


def _page_fields(page) -> dict:
    if page is None:
        return {"fetch_status": "invalid_url", "last_ok_at": None}
    return {
        "fetch_status": page.status,
        "http_status": page.http_status,
        "final_url": page.final_url,
        "fetched_at": page.fetched_at,
        "last_ok_at": page.last_ok_at,
        "page_title": page.title,
        "description": page.description,
        "author": page.author,
        "published": page.published,
        "language": page.language,
        "content_type": page.content_type,
        "page_chars": len(page.text or ""),
    }


def served_page(previous: IndexReader, resource_id: str):
    """A resource's page as the served index stored it (a PageRecord), or None when that
    index had no page for it either."""
    from indexer.pagecache import PageRecord  # imports trafilatura, as fetching does

    pos = previous.position.get(resource_id)
    doc = previous.docs[pos] if pos is not None else {}
    if doc.get("fetch_status") in (None, "offline", "invalid_url"):
        return None
    return PageRecord(
        url=doc["url"],
        status=doc["fetch_status"],
        http_status=doc.get("http_status"),
        final_url=doc.get("final_url"),
        content_type=doc.get("content_type"),
        fetched_at=doc.get("fetched_at"),
        last_ok_at=doc.get("last_ok_at"),
        title=doc.get("page_title"),
        text=previous.page_text(resource_id),
        description=doc.get("description"),
        author=doc.get("author"),
        published=doc.get("published"),
        language=doc.get("language"),
    )


def resource_doc(resource: Resource, page) -> dict:
    """The stored record of a resource: what the lists say plus what the page said."""
    doc = resource.to_dict()
    doc.update(_page_fields(page))
    doc["kind"] = "resource"
    doc["list_title"] = resource.title
    if resource.title_is_placeholder and page is not None and page.title:
        doc["title"] = page.title.strip()
    doc["contributors"] = resource.contributors
    doc["dates"] = resource.dates
    doc["sections"] = list(dict.fromkeys(m.section for m in resource.mentions if m.section))
    return doc


def evidence(doc: dict) -> dict:
    """What a record shows of itself: the kinds of resource it is (from its type, and from
    type words in its title, headings and list names) and whether it is thin (only its link
    to go on: a placeholder title, no note, no page text)."""
    words = type_words()
    named = " \n ".join([doc["title"], *headings(doc)])
    kinds = {intent for intent, types in words.types_of.items() if doc["type"] in types}
    kinds |= words.intents_in(named)
    thin = (
        doc["kind"] == "resource"
        and bool(doc.get("title_is_placeholder"))
        and not any(m["note"] for m in doc["mentions"])
        and not doc.get("page_chars")
        and not doc.get("description")
    )
    return {"kinds": sorted(kinds), "thin": thin}


def same_pages(docs: list[dict]) -> None:
    """Record on each resource the other addresses of its page in `docs` (`same_page`: http
    and https, www, youtu.be and watch?v=, a playlist or a start time): they stay resources
    of their own, each with its posts, but a ranking shows the page once."""
    pages = [duplicate_key(doc["url"]) if doc["kind"] == "resource" else "" for doc in docs]
    addresses: dict[str, list[str]] = {}
    for doc, page in zip(docs, pages, strict=True):
        if page:
            addresses.setdefault(page, []).append(doc["url"])
    for doc, page in zip(docs, pages, strict=True):
        doc["same_page"] = [url for url in addresses.get(page, []) if url != doc["url"]]


def note_doc(note: Note) -> dict:
    first_line = note.text.splitlines()[0] if note.text else ""
    return {
        **note.to_dict(),
        "kind": "note",
        "url": "",
        "title": note.section or first_line[:80],
        "type": "note",
        "domain": "",
        "contributors": [note.contributor] if note.contributor else [],
        "dates": [note.date] if note.date else [],
        "categories": [],
        "companions": [],
        "mentions": [
            {
                "contributor": note.contributor,
                "date": note.date,
                "section": note.section,
                "note": note.text,
                "source": note.source,
                "line": note.line,
            }
        ],
        "fetch_status": None,
        "last_ok_at": None,
    }


_URL_NOISE = frozenset({"http", "https", "www", "com", "html", "htm", "php", "aspx", "index"})


def url_words(url: str) -> str:
    words = re.split(r"[^\w]+|_", url.lower())
    return " ".join(w for w in words if w and w not in _URL_NOISE and not w.isdigit())


def doc_fields(doc: dict, page_text: str) -> dict[str, str]:
    """The text of each keyword field of a resource or note (see indexer/lexical.py)."""
    mentions = doc["mentions"]
    titles = dict.fromkeys(
        t for t in (doc["title"], doc.get("list_title"), doc.get("page_title")) if t
    )
    fields = {
        "title": "\n".join(titles),
        "notes": "\n".join(dict.fromkeys(m["note"] for m in mentions if m["note"])),
        "headings": "\n".join(dict.fromkeys(h for h in headings(doc) if h)),
        "url": url_words(doc["url"]) if doc["url"] else "",
        "people": "\n".join(doc["contributors"]),
        "context": "\n".join(dict.fromkeys(m["context"] for m in mentions if m.get("context"))),
        "page": "\n".join(t for t in (doc.get("description") or "", page_text) if t),
    }
    return {name: fields[name] for name in FIELDS}


def field_index(
    docs: list[dict], pages: dict[str, str], tokens: TokenCache, phrases: list[tuple[str, ...]]
) -> FieldIndex:
    """Every document's fields analysed in one pass (texts analysed before read back from
    `tokens`) and indexed field by field, with where the terms `phrases` stand."""
    texts = [doc_fields(doc, pages.get(doc["id"], "")) for doc in docs]
    flat = tokens.tokenize([text[name] for text in texts for name in FIELDS])
    width = len(FIELDS)
    by_field = {name: flat[column::width] for column, name in enumerate(FIELDS)}
    return FieldIndex.from_tokens(by_field, phrases)


def doc_passages(doc: dict, page_text: str) -> list[Passage]:
    header = [doc["title"]]
    if doc.get("list_title") and doc["list_title"] != doc["title"]:
        header.append(doc["list_title"])
    if doc.get("page_title") and doc["page_title"] not in header:
        header.append(doc["page_title"])
    if doc["categories"]:
        header.append(" · ".join(doc["categories"]))
    if doc["kind"] == "resource":
        header.append(f"{doc['type']} · {doc['domain']}")
    people = ", ".join(doc["contributors"])
    sections = " · ".join(s for s in doc.get("sections", []) if s)
    header.extend(line for line in (people, sections) if line)
    notes = [m["note"] for m in doc["mentions"]]
    passages = profile_passages(doc["id"], header, notes, doc.get("description") or "")
    if page_text:
        passages.extend(page_passages(doc["id"], doc["title"], page_text))
    return passages
