"""A ranked candidate as the hit a user sees: the passage shown (words a person wrote or a
page holds, never the synthetic header), the query's words it holds, why it matched, and
how sure Recall is of it."""

from __future__ import annotations

import functools

from indexer.hits import Hit
from indexer.morphology import latin_surfaces, part_of
from indexer.query import QueryPlan
from indexer.rank import Calibration, Candidate
from indexer.store import IndexReader

SNIPPET_CHARS = 280
_WHERE = {"profile": "the list entry", "note": "the notes", "page": "the page text"}


def explain(
    rank: int,
    candidate: Candidate,
    found: dict[str, set[str]],
    passages: dict[int, tuple[str, str]],
    plan: QueryPlan,
    absence: float,
    reader: IndexReader,
    calibration: Calibration | None,
) -> Hit:
    """The hit of `candidate`, which holds the query's words `found` (field -> words),
    with `passages` holding (kind, text) of its best passage rows; `absence`: the query's
    `Searcher.absence` (what its glossary terms that no resource holds tell)."""
    doc = reader.docs[candidate.pos]
    rows = candidate.rows
    best_kind, best_text = passages.get(rows[0], ("profile", "")) if rows else ("profile", "")
    if best_kind == "profile":  # what people said or the page holds, not the header
        best_text = _written_text(doc, reader, candidate.pos)
    present = set().union(*found.values())
    keyword_terms = list(dict.fromkeys(t.surface for t in plan.topic_terms if t.token in present))
    lexical = reader.lexical
    translated = {}  # a word matched only through the model's translation: "특징 (feature)"
    for bridge in plan.bridges:
        if bridge.asked in keyword_terms:
            continue
        alternatives = bridge.alternatives
        held = next((o for o in alternatives if lexical.holds(o, candidate.pos, present)), None)
        if held is not None:
            keyword_terms.append(bridge.asked)
            if bridge.learned:
                translated[bridge.asked] = reader.words.spelling(held)
    # Marked in the hit: the query's matched words, and the resource's own spelling of
    # the Latin ones ("networks" matched "Network").
    asked = [t.surface for t in plan.terms if t.token in present] or keyword_terms
    own = latin_surfaces(f"{doc['title']}\n{best_text}", present)
    shown_terms, seen = [], set()
    for word in [*asked, *own]:
        if word.casefold() not in seen:
            seen.add(word.casefold())
            shown_terms.append(word)
    matched = [name for name in ("title", "notes", "headings", "context", "page") if name in found]
    matched = [{"notes": "note"}.get(name, name) for name in matched]
    matched.extend(passages[row][0] for row in rows[:3] if row in passages)
    matched = list(dict.fromkeys(matched))
    why_parts = []
    if keyword_terms:
        words = _widest(tuple(keyword_terms))[:6]
        words = [f"{w} ({translated[w]})" if w in translated else w for w in words]
        why_parts.append("words: " + ", ".join(words))
    if candidate.similarity is not None and candidate.similarity > 0:  # not "similar" at or below 0
        why_parts.append(f"similar meaning in {_WHERE[best_kind]} ({candidate.similarity:.2f})")
    if plan.intents & set(doc.get("kinds", ())):
        why_parts.append("the kind asked for: " + ", ".join(sorted(plan.intents)))
    confidence = None
    if calibration is not None:
        dense_evidence = candidate.similarity if candidate.similarity is not None else 0.0
        confidence = calibration.probability(dense_evidence, candidate.coverage, absence)
    return Hit.of(
        doc,
        rank,
        candidate.score,
        snippet(best_text, shown_terms),
        matched,
        "; ".join(why_parts) or "best available match",
        reader.several_lists,
        terms=shown_terms,
        similarity=None if candidate.similarity is None else round(candidate.similarity, 4),
        coverage=round(candidate.coverage, 4),
        confidence=None if confidence is None else round(confidence, 4),
        weak=confidence is not None and confidence < calibration.threshold,
        also_at=list(doc.get("same_page", ())),
    )


@functools.lru_cache(maxsize=1024)  # a query's hits mostly hold the same words
def _widest(words: tuple[str, ...]) -> tuple[str, ...]:
    """`words` without repeats (GAN beside gan) and without those another of them holds (판별
    beside 판별자, 신경망 beside 적대적 생성 신경망), in their order: a compound's parts are
    matched too, but are one word to the reader."""
    folded = [word.casefold() for word in words]
    kept: list[str] = []
    seen: set[str] = set()
    for word, low in zip(words, folded, strict=True):
        if low in seen:
            continue
        seen.add(low)
        # (A part is inside the other, case aside: the cheap test first.)
        inside = any(
            low != other and low in other and part_of(word, words[j])
            for j, other in enumerate(folded)
        )
        if not inside:
            kept.append(word)
    return tuple(kept)


def _written_text(doc: dict, reader: IndexReader, pos: int) -> str:
    """What people wrote about a resource or its page holds: the notes, else the page's
    description, else its first passage of page text; never the profile's header lines."""
    notes = [m["note"] for m in doc["mentions"] if m["note"]]
    if notes:
        return "\n".join(dict.fromkeys(notes))
    if doc.get("description"):
        return doc["description"]
    page = next((text for _, kind, text in reader.doc_passages(pos) if kind == "page"), "")
    return page


def snippet(text: str, terms: list[str], limit: int = SNIPPET_CHARS) -> str:
    """`text` on one line within `limit` characters, around the first of `terms` it holds."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    lowered = text.lower()
    hits = [lowered.find(term.lower()) for term in terms]
    hits = [h for h in hits if h >= 0]
    start = max(0, min(hits) - limit // 3) if hits else 0
    end = min(len(text), start + limit)
    start = max(0, end - limit)
    cut = text[start:end]
    return ("…" if start else "") + cut + ("…" if end < len(text) else "")
