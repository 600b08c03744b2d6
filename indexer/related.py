"""Related resources of one resource: its vector's neighbours fused with the resources that
share its own words, the links posted with it first, each with the reason it is related."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from indexer.explain import snippet
from indexer.hits import Hit
from indexer.morphology import latin_terms
from indexer.rank import Ranking, fuse_related, related_pool
from indexer.resources import headings
from indexer.store import IndexReader


def related(
    reader: IndexReader,
    ranking: Ranking,
    pos: int,
    by_url: dict[str, int],
    k: int,
    same_page: Callable[[int], list[int]],
) -> list[Hit]:
    """The `k` resources most related to the one at `pos` (`by_url`: position by URL;
    `same_page`: the positions of a resource's page's other addresses), each page once and
    never its own."""
    docs = reader.docs
    source = docs[pos]
    sims = reader.doc_vectors @ reader.doc_vectors[pos]
    # The resource's own words (its title's, by default) as the index holds them: no
    # text is analysed again, so `recall related` never loads Kiwi.
    topic_fields = ranking.related_fields
    topic = reader.lexical.doc_tokens(pos, topic_fields)
    keyword = reader.lexical.scores(topic, ranking.field_weights)
    keyword[pos] = 0.0  # its own words: it is measured with its neighbours, not above them
    fused = fuse_related(sims, keyword, related_pool(sims, keyword), ranking)
    listed = list(dict.fromkeys(source.get("companions", [])))  # in the order posted
    companions = set(listed)
    together = [by_url[url] for url in listed if url in by_url]
    posts = {(m["source"], m["section"]) for m in source["mentions"]}
    best = np.argsort(-fused, kind="stable")[: max(200, 20 * k)].tolist()
    scored, shown = [], {pos, *same_page(pos)}  # the resource, under any of its addresses
    for other in dict.fromkeys([*together, *best]):
        if other in shown:
            continue
        shown.update([other, *same_page(other)])
        doc, link = docs[other], ""
        if doc["url"] in companions or source["url"] in doc.get("companions", []):
            link = "posted together"
        elif posts & {(m["source"], m["section"]) for m in doc["mentions"]}:
            link = "same post"
        scored.append((float(fused[other]), other, link))
    # Links posted together with it come first, then the best of the rest.
    scored.sort(key=lambda item: (item[2] != "posted together", -item[0], item[1]))
    people = set(source["contributors"])
    source_topic = _topic_text(source)
    shown = scored[:k]
    shared = reader.lexical.tokens_in(topic, [other for _, other, _ in shown])
    hits = []
    for rank, (score, other, link) in enumerate(shown, start=1):
        doc = docs[other]
        reasons = [link + _by(doc, people)] if link else []
        words = {t for name in topic_fields for t in shared[other].get(name, ())}
        written = as_written(source_topic, [t for t in topic if t in words])
        if written:
            reasons.append("similar topic: " + ", ".join(written[:4]))
        elif not reasons:
            reasons.append(f"similar content ({float(sims[other]):.2f})")
        first_note = next((m["note"] for m in doc["mentions"] if m["note"]), "")
        hits.append(
            Hit.of(
                doc,
                rank,
                score,
                snippet(first_note, []),
                ["related"],
                "; ".join(reasons),
                reader.several_lists,
            )
        )
    return hits


def _by(doc: dict, people: set[str]) -> str:
    shared = [p for p in doc["contributors"] if p in people]
    return f" by {', '.join(shared)}" if shared else ""


def _topic_text(doc: dict) -> str:
    return " ".join([doc["title"], *headings(doc)])


def _latin_words(text: str) -> dict[str, tuple[int, str]]:
    """Each Latin token of `text` with where its first word is and how it is written
    ("tutori" -> "Tutorials")."""
    found: dict[str, tuple[int, str]] = {}
    for at, term in latin_terms(text):
        found.setdefault(term.token, (at, term.surface))
    return found


def as_written(text: str, tokens: list[str]) -> list[str]:
    """Index tokens as `text` writes them ("lstm" -> "LSTM"), in the order the text has
    them; a token the text does not spell out (a compound's part) stays as it is."""
    latin = _latin_words(text)  # a Latin stem is shown as a word it stands for
    lowered = text.lower()
    same_length = len(lowered) == len(text)  # lower() can lengthen a few letters
    placed = []
    for token in dict.fromkeys(tokens):
        if token in latin:
            placed.append(latin[token])
            continue
        at = lowered.find(token) if same_length else -1
        if at >= 0:
            placed.append((at, text[at : at + len(token)]))
        else:
            placed.append((len(text), token))
    return [word for _, word in sorted(placed, key=lambda item: item[0])]
