"""Hybrid retrieval over an index: dense and BM25 rankers, fusion, per-resource ranking,
filters, query expansion, and related resources."""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import faiss
import numpy as np

from indexer.config import Settings, load_settings
from indexer.embed import Embedder, ModelLoadError, load_embedder
from indexer.lexical import Masks, top_k
from indexer.morphology import analyse_many, latin_surfaces, latin_terms
from indexer.query import QueryPlan, plan_query
from indexer.rank import (
    FUSIONS,
    Candidate,
    Candidates,
    Ranking,
    fuse,
    fuse_related,
    keyword_scores,
    load_calibration,
    related_pool,
)
from indexer.resources import headings, normalize_url
from indexer.store import IndexIncompatible, IndexReader, check_tokenizer

MODES = ("hybrid", "dense", "lexical")
FIRST_DEPTH = 64  # passages per ranker before filters; deepened until k resources pass
EXPANSION_TOP = 3
EXPANSION_ALPHA = 3.0
SNIPPET_CHARS = 280
# youtu.be/ID, youtube.com/watch?v=ID with v= anywhere in the query (the mobile share
# button writes watch?feature=youtu.be&v=ID), /shorts/ID and /embed/ID.
_YOUTUBE_VIDEO = re.compile(
    r"https?://(?:www\.|m\.)?(?:youtu\.be/|youtube\.com/(?:watch\?(?:[^#]*?&)?v=|shorts/|embed/))"
    r"([\w-]+)"
)
# Lone surrogates too: argv decodes invalid UTF-8 to them, and the model's tokenizer
# cannot encode them (`recall search $'\xff'` ended in a UnicodeEncodeError).
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


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
        if self.contributors and not set(self.contributors) & set(doc["contributors"]):
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
    coverage: float = 0.0  # share of the query's topic words the resource holds
    confidence: float | None = None  # P(relevant), calibrated per model; None: not known
    weak: bool = False  # below the calibrated threshold: shown as "less related"
    link_health: str | None = None  # ok, dead, unreachable, unchecked, unfetchable (linkhealth)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SearchResponse:
    query: str
    took_ms: float
    results: list[Hit]
    message: str | None = None
    truncated: bool = False
    no_close_match: bool = False  # every hit is weak: nothing in the index answers well
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
    query = unicodedata.normalize("NFKC", _CONTROL.sub(" ", query or ""))
    query = " ".join(query.split())
    if len(query) > limit:
        return query[:limit], True
    return query, False


def duplicate_key(url: str) -> str:
    """URLs that name the same page (http/https, www, trailing slash, youtu.be)."""
    if not url:
        return ""
    url = normalize_url(url)
    match = _YOUTUBE_VIDEO.match(url)
    if match:
        return "youtube:" + match[1]
    return re.sub(r"^https?://(www\.)?", "", url).rstrip("/")


def _trim_around(text: str, terms: list[str], limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    lowered = text.lower()
    hits = [lowered.find(term.lower()) for term in terms]
    hits = [h for h in hits if h >= 0]
    start = max(0, min(hits) - limit // 3) if hits else 0
    end = min(len(text), start + limit)
    start = max(0, end - limit)
    snippet = text[start:end]
    return ("…" if start else "") + snippet + ("…" if end < len(text) else "")


def search_one(index: faiss.Index, vector: np.ndarray, k: int, params=None):
    """FAISS search for one query vector, on one thread: waking OpenMP's pool for a single
    query costs more than it saves and fights the encoder's threads (10k passages, flat:
    12 ms a search, 1.2 ms on one thread). The setting is the calling thread's, restored."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return index.search(vector[None, :].astype(np.float32), k, params=params)
    finally:
        faiss.omp_set_num_threads(threads)


class Searcher:
    """Answers queries and related-resource lookups against one opened index."""

    def __init__(
        self,
        reader: IndexReader,
        embedder: Embedder,
        settings: Settings | None = None,
        ranking: Ranking | None = None,
    ):
        if reader.manifest["model"] != embedder.name:
            raise IndexIncompatible(
                f"index {reader.path} was built with model {reader.manifest['model']!r}, "
                f"not {embedder.name!r}: search with that model or rebuild with "
                f"`recall build --full --model {embedder.name}`"
            )
        self.reader = reader
        self.embedder = embedder
        self.settings = settings or load_settings()
        self.ranking = ranking or Ranking()
        self.calibration = load_calibration(embedder.name)
        self.docs = reader.docs
        self._thin = np.array([bool(doc.get("thin")) for doc in self.docs], np.float32)
        self._kind_masks: dict[str, np.ndarray] = {}  # intent -> 1.0 for resources of it
        self._by_url = {}
        for pos, doc in enumerate(self.docs):
            if doc["url"]:
                self._by_url.setdefault(doc["url"], pos)

    @classmethod
    def open(
        cls, index_path: Path, embedder: Embedder | None = None, settings=None, ranking=None
    ) -> Searcher:
        """The searcher of the index at `index_path`, refusing one whose keyword index another
        tokenizer analysed (before any model is loaded); the model is the index's own unless
        `embedder` is given."""
        reader = IndexReader(index_path)
        try:
            check_tokenizer(index_path, reader.manifest)
        except IndexIncompatible:
            reader.close()
            raise
        if embedder is None:
            model = reader.manifest["model"]
            try:
                embedder = load_embedder(model)
            except ModelLoadError as exc:
                reader.close()
                raise IndexIncompatible(
                    f"index {reader.path} was built with model {model!r}, which cannot be "
                    f"loaded here ({exc}): rebuild it with `recall build --full` "
                    "(choose the model with --model or RECALL_MODEL)"
                ) from exc
        return cls(reader, embedder, settings, ranking)

    @property
    def build_id(self) -> str:
        return self.reader.build_id

    # -------------------------------------------------------------- rankers

    def _dense(self, vector: np.ndarray, depth: int) -> dict[int, float]:
        index = self.reader.dense
        if index.ntotal == 0:
            return {}
        depth = min(depth, index.ntotal)
        params = None
        if isinstance(index, faiss.IndexIVF):
            # A deep search (strict filters) probes more lists: the probed lists must hold
            # twice `depth` vectors, so at half the index it becomes exact.
            wanted = math.ceil(2 * depth * index.nlist / index.ntotal)
            params = faiss.SearchParametersIVF(nprobe=min(index.nlist, max(index.nprobe, wanted)))
        scores, rows = search_one(index, vector, depth, params)
        return {int(r): float(s) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0}

    def _expand(self, vector: np.ndarray, dense: dict[int, float]) -> np.ndarray:
        """αQE: move the query toward its best resources, weighted by similarity^α."""
        best_docs: dict[int, float] = {}
        for row, score in sorted(dense.items(), key=lambda item: -item[1]):
            pos = int(self.reader.passage_docs[row])
            best_docs.setdefault(pos, score)
            if len(best_docs) == EXPANSION_TOP:
                break
        expanded = vector.copy()
        for pos, score in best_docs.items():
            expanded += max(score, 0.0) ** EXPANSION_ALPHA * self.reader.doc_vectors[pos]
        return expanded / max(float(np.linalg.norm(expanded)), 1e-12)

    def _candidates(
        self,
        dense: dict[int, float],
        keyword: np.ndarray | None,
        depth: int,
        vector: np.ndarray | None,
    ) -> Candidates:
        """Resources from either ranker: each one's best passage plus a share of the next
        two, and its keyword score. A resource only the keyword ranker returned is shown with
        the similarity of its resource vector (exact for a resource with one passage); in the
        fusion it counts as the least similar returned one unless `estimate_unseen`."""
        rows = np.fromiter(dense, dtype=np.int64, count=len(dense))
        cosines = np.fromiter(dense.values(), dtype=np.float64, count=len(dense))
        docs = self.reader.passage_docs[rows].astype(np.int64)
        # Each resource's passages, best first (ties: the later row first), resources in the
        # order the dense ranker first returned them (the order the fusion's means sum in).
        seen, first, resource_of = np.unique(docs, return_index=True, return_inverse=True)
        rank_of = np.empty(len(seen), dtype=np.int64)
        rank_of[np.argsort(first, kind="stable")] = np.arange(len(seen))
        order = np.lexsort((-rows, -cosines, rank_of[resource_of]))
        rows, cosines, docs = rows[order], cosines[order], docs[order]
        change = np.flatnonzero(docs[1:] != docs[:-1]) + 1
        # (Cut to the passages' count: no passage, no resource; [0] would make one.)
        starts = np.concatenate([[0], change])[: len(docs)]
        ends = np.append(change, len(docs))[: len(docs)]
        second = _at_offset(cosines, starts, ends, 1)
        third = _at_offset(cosines, starts, ends, 2)
        best = cosines[starts]
        pos = docs[starts]
        total = best + self.ranking.secondary_weight * (second + third)
        similarity, spans = best, np.stack([starts, ends], axis=1)
        if keyword is not None:
            top = top_k(keyword, depth)[0]
            returned = np.zeros(len(keyword), dtype=bool)
            returned[pos] = True
            unseen = top[~returned[top]]
            estimates = np.full(len(unseen), np.nan)
            if vector is not None and len(unseen):
                estimates = (self.reader.doc_vectors[unseen] @ vector).astype(np.float64)
            unseen_dense = (
                estimates if self.ranking.estimate_unseen else np.full(len(unseen), np.nan)
            )
            pos = np.concatenate([pos, unseen])
            total = np.concatenate([total, unseen_dense])
            similarity = np.concatenate([similarity, estimates])
            spans = np.concatenate([spans, np.full((len(unseen), 2), len(rows))])
            keyword_of = keyword[pos].astype(np.float64)
        else:
            keyword_of = np.zeros(len(pos))
        return Candidates(pos, total, keyword_of, similarity, np.zeros(len(pos)), rows, spans)

    # -------------------------------------------------------------- search

    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters | None = None,
        mode: str = "hybrid",
        fusion: str | None = None,
        expand: bool = False,
    ) -> SearchResponse:
        started = time.perf_counter()
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        ranking = self.ranking if fusion is None else self.ranking.with_options(fusion=fusion)
        if ranking.fusion not in FUSIONS:
            raise ValueError(
                f"unknown fusion {ranking.fusion!r}; choose one of {', '.join(FUSIONS)}"
            )
        text, truncated = clean_query(query, self.settings.max_query_chars)
        filters = filters or Filters()
        message = None
        if truncated:
            message = f"the query was cut to its first {self.settings.max_query_chars} characters"
        if not text or k <= 0:
            return SearchResponse(text, _ms(started), [], "empty query: type a question", truncated)
        terms = (
            analyse_many([text])[0]
            if ranking.kiwi_queries
            else self.reader.lexical.analyse_query(text)
        )
        plan = plan_query(text, terms, strip_dense=ranking.strip_dense, bridge=ranking.bridge)
        vector = self.embedder.encode_queries([plan.dense_text])[0] if mode != "lexical" else None
        known: Masks = {}  # the query's words' masks, worked out once for all uses
        keyword = None
        if mode != "dense":
            keyword = keyword_scores(self.reader.lexical, plan, ranking, known)
        preferred = self._preferred(plan.intents)
        total = max(self.reader.dense.ntotal, len(self.docs))
        depth = max(FIRST_DEPTH, 4 * k)
        while True:
            dense = self._dense(vector, depth) if vector is not None else {}
            if expand and dense:
                dense = self._dense(self._expand(vector, dense), depth)
            candidates = self._candidates(dense, keyword, depth, vector)
            if keyword is not None:
                candidates.coverage = self._cover(candidates.pos, plan, ranking, known)
            scores = fuse(candidates, ranking, mode, preferred, self._thin)
            ranked = np.lexsort((candidates.pos, -scores))  # ties by position
            if filters.active():
                allowed = [filters.allows(self.docs[pos]) for pos in candidates.pos[ranked]]
                ranked = ranked[np.array(allowed, dtype=bool)]
            if len(ranked) >= k or depth >= total:
                break
            depth *= 4
        absent = self._absent_terms(plan, known)
        shown = [candidates.at(int(i), float(scores[i])) for i in ranked[:k]]
        found = {}  # dense mode: no keyword ranker ran
        if keyword is not None:
            bridged = [token for b in plan.bridges for alt in b.alternatives for token in alt]
            words = [*plan.topic_tokens, *bridged]
            found = self.reader.lexical.tokens_in(words, [c.pos for c in shown])
        passages = self.reader.passage_rows(row for c in shown for row in c.rows[:3])
        hits = [
            self._hit(rank, c, found.get(c.pos, {}), passages, plan, bool(absent))
            for rank, c in enumerate(shown, 1)
        ]
        no_close_match = bool(hits) and all(hit.weak for hit in hits)
        if not hits and message is None:
            message = "no matching resources" + (" for these filters" if filters.active() else "")
        return SearchResponse(text, _ms(started), hits, message, truncated, no_close_match, absent)

    def _absent_terms(self, plan: QueryPlan, known: Masks) -> list[str]:
        """The glossary terms of the query that no resource holds in any of their variants:
        a question about a concept the collection never mentions."""
        lexical = self.reader.lexical
        return [
            concept.shown
            for concept in plan.concepts
            if not any(lexical.any_holds(tokens, known) for tokens in concept.token_lists())
        ]

    def _cover(
        self, positions: np.ndarray, plan: QueryPlan, ranking: Ranking, known: Masks
    ) -> np.ndarray:
        """Each candidate's coverage: the weighted share of the query's topic words it holds,
        as asked or through a glossary bridge standing in for them."""
        lexical = self.reader.lexical
        asked = plan.topic_tokens
        rarity = lexical.rarity(asked, known) if ranking.coverage_idf else {}
        weights = {token: rarity.get(token, 1.0) * ranking.word_weight(token) for token in asked}
        total = sum(weights.values())
        if not total or not len(positions):
            return np.zeros(len(positions))
        held = {
            token: lexical.holding_all([token], lexical.fields, known)[positions]
            for token in weights
        }
        for bridge in plan.bridges:
            found = np.zeros(len(positions), dtype=bool)
            for alternative in bridge.alternatives:
                found |= lexical.holding_all(alternative, lexical.fields, known)[positions]
            for term in plan.topic_terms:  # the query's words the bridge stands in for
                if term.surface.casefold() in bridge.asked:
                    held[term.token] = held[term.token] | found
        return sum(weights[token] * held[token] for token in weights) / total

    def _preferred(self, intents: set[str]) -> np.ndarray | None:
        """1.0 for each resource of a kind the query asks for ("LSTM 논문": papers)."""
        if not intents:
            return None
        return np.max([self._kind_mask(intent) for intent in sorted(intents)], axis=0)

    def _kind_mask(self, intent: str) -> np.ndarray:
        if intent not in self._kind_masks:
            self._kind_masks[intent] = np.array(
                [intent in doc.get("kinds", ()) for doc in self.docs], np.float32
            )
        return self._kind_masks[intent]

    def _hit(
        self,
        rank: int,
        candidate: Candidate,
        found: dict[str, set[str]],
        passages: dict[int, tuple[str, str]],
        plan: QueryPlan,
        absent: bool,
    ) -> Hit:
        """The hit of `candidate`, which holds the query's words `found` (field -> words),
        with `passages` holding (kind, text) of its best passage rows."""
        doc = self.docs[candidate.pos]
        rows = candidate.rows
        best_kind, best_text = passages.get(rows[0], ("profile", "")) if rows else ("profile", "")
        if best_kind == "profile":  # what people said or the page holds, not the header
            best_text = _written_text(doc, self.reader, candidate.pos)
        present = set().union(*found.values())
        keyword_terms = list(
            dict.fromkeys(t.surface for t in plan.topic_terms if t.token in present)
        )
        keyword_terms += [
            b.asked for b in plan.bridges if b.found_in(present) and b.asked not in keyword_terms
        ]
        # Marked in the hit: the query's matched words, and the resource's own spelling of
        # the Latin ones ("networks" matched "Network").
        asked = [t.surface for t in plan.terms if t.token in present] or keyword_terms
        own = latin_surfaces(f"{doc['title']}\n{best_text}", present)
        shown_terms, seen = [], set()
        for word in [*asked, *own]:
            if word.casefold() not in seen:
                seen.add(word.casefold())
                shown_terms.append(word)
        coverage = candidate.coverage
        matched = [
            name for name in ("title", "notes", "headings", "context", "page") if name in found
        ]
        matched = [{"notes": "note"}.get(name, name) for name in matched]
        matched.extend(passages[row][0] for row in rows[:3] if row in passages)
        matched = list(dict.fromkeys(matched))
        where = {"profile": "the list entry", "note": "the notes", "page": "the page text"}
        why_parts = []
        if keyword_terms:
            why_parts.append("words: " + ", ".join(keyword_terms[:6]))
        if candidate.similarity is not None:
            why_parts.append(f"similar meaning in {where[best_kind]} ({candidate.similarity:.2f})")
        if plan.intents & set(doc.get("kinds", ())):
            why_parts.append("the kind asked for: " + ", ".join(sorted(plan.intents)))
        confidence = None
        if self.calibration is not None:
            dense_evidence = candidate.similarity if candidate.similarity is not None else 0.0
            confidence = self.calibration.probability(dense_evidence, coverage, absent)
        return Hit(
            rank=rank,
            id=doc["id"],
            url=doc["url"],
            title=doc["title"],
            score=round(float(candidate.score), 6),
            contributors=doc["contributors"],
            dates=doc["dates"],
            categories=doc["categories"],
            type=doc["type"],
            domain=doc["domain"],
            fetch_status=doc.get("fetch_status"),
            last_ok_at=doc.get("last_ok_at"),
            snippet=_trim_around(best_text, shown_terms),
            matched=matched,
            why="; ".join(why_parts) or "best available match",
            kind=doc["kind"],
            terms=shown_terms,
            similarity=None if candidate.similarity is None else round(candidate.similarity, 4),
            coverage=round(coverage, 4),
            confidence=None if confidence is None else round(confidence, 4),
            weak=confidence is not None and confidence < self.calibration.threshold,
            link_health=doc.get("link_health"),
        )

    # -------------------------------------------------------------- browsing

    def record(self, ref: str) -> dict | None:
        """Everything about one resource or note, with its extracted page text."""
        pos = self.resolve(ref)
        if pos is None:
            return None
        doc = dict(self.docs[pos])
        doc["page_text"] = self.reader.page_text(doc["id"])
        return doc

    def newest(self, n: int = 10) -> list[dict]:
        """Most recently posted resources and notes (by their latest mention date)."""
        dated = [doc for doc in self.docs if doc["dates"]]
        dated.sort(key=lambda doc: (doc["dates"][-1], doc["title"]), reverse=True)
        return dated[:n]

    def facets(self) -> dict:
        """Values the filters can take, with counts, and the span of dates."""
        contributors: dict[str, int] = defaultdict(int)
        types: dict[str, int] = defaultdict(int)
        domains: dict[str, int] = defaultdict(int)
        dates = []
        for doc in self.docs:
            for person in doc["contributors"]:
                contributors[person] += 1
            types[doc["type"]] += 1
            if doc["domain"]:
                domains[doc["domain"]] += 1
            dates.extend(doc["dates"])

        def by_count(counts):
            return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

        return {
            "contributors": by_count(contributors),
            "types": by_count(types),
            "domains": by_count(domains),
            "first_date": min(dates, default=None),
            "last_date": max(dates, default=None),
        }

    # -------------------------------------------------------------- related

    def resolve(self, ref: str) -> int | None:
        """Position of a resource given by id or URL (any form of it)."""
        ref = ref.strip()
        if ref in self.reader.position:
            return self.reader.position[ref]
        if ref in self._by_url:
            return self._by_url[ref]
        normalized = normalize_url(ref)
        if normalized in self._by_url:
            return self._by_url[normalized]
        key = duplicate_key(ref)
        return next(
            (pos for pos, doc in enumerate(self.docs) if duplicate_key(doc["url"]) == key and key),
            None,
        )

    def related(self, ref: str, k: int = 5) -> list[Hit]:
        pos = self.resolve(ref)
        if pos is None:
            raise KeyError(f"no resource with id or URL {ref!r} in the index")
        source = self.docs[pos]
        sims = self.reader.doc_vectors @ self.reader.doc_vectors[pos]
        # The resource's own words (its title's, by default) as the index holds them: no
        # text is analysed again, so `recall related` never loads Kiwi.
        topic_fields = self.ranking.related_fields
        topic = self.reader.lexical.doc_tokens(pos, topic_fields)
        keyword = self.reader.lexical.scores(topic, self.ranking.field_weights)
        keyword[pos] = 0.0  # its own words: it is measured with its neighbours, not above them
        own_key = duplicate_key(source["url"])

        def itself(other: int) -> bool:  # the resource, or another URL of it
            return other == pos or bool(
                own_key and duplicate_key(self.docs[other]["url"]) == own_key
            )

        fused = fuse_related(sims, keyword, related_pool(sims, keyword), self.ranking)
        companions = set(source.get("companions", []))
        together = [self._by_url[url] for url in companions if url in self._by_url]
        posts = {(m["source"], m["section"]) for m in source["mentions"]}
        best = np.argsort(-fused, kind="stable")[: max(200, 20 * k)].tolist()
        scored = []
        for other in dict.fromkeys([*together, *best]):
            if itself(other):
                continue
            doc, link = self.docs[other], ""
            if doc["url"] in companions or source["url"] in doc.get("companions", []):
                link = "posted together"
            elif posts & {(m["source"], m["section"]) for m in doc["mentions"]}:
                link = "same post"
            scored.append((float(fused[other]), other, link))
        # Links posted together with it come first, then the best of the rest.
        scored.sort(key=lambda item: (item[2] != "posted together", -item[0], item[1]))
        people = set(source["contributors"])
        shown = scored[:k]
        shared = self.reader.lexical.tokens_in(topic, [other for _, other, _ in shown])
        explained = []
        for score, other, link in shown:
            doc = self.docs[other]
            reasons = [link + _by(doc, people)] if link else []
            words = {t for name in topic_fields for t in shared[other].get(name, ())}
            written = _as_written(_topic_text(source), [t for t in topic if t in words])
            if written:
                reasons.append("similar topic: " + ", ".join(written[:4]))
            elif not reasons:
                reasons.append(f"similar content ({float(sims[other]):.2f})")
            explained.append((score, other, "; ".join(reasons)))
        scored = explained
        hits = []
        for rank, (score, other, why) in enumerate(scored[:k], start=1):
            doc = self.docs[other]
            first_note = next((m["note"] for m in doc["mentions"] if m["note"]), "")
            hits.append(
                Hit(
                    rank,
                    doc["id"],
                    doc["url"],
                    doc["title"],
                    round(score, 6),
                    doc["contributors"],
                    doc["dates"],
                    doc["categories"],
                    doc["type"],
                    doc["domain"],
                    doc.get("fetch_status"),
                    doc.get("last_ok_at"),
                    _trim_around(first_note, []),
                    ["related"],
                    why,
                    doc["kind"],
                    link_health=doc.get("link_health"),
                )
            )
        return hits


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


def _as_written(text: str, tokens: list[str]) -> list[str]:
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


def _at_offset(values: np.ndarray, starts: np.ndarray, ends: np.ndarray, offset: int) -> np.ndarray:
    """Each group's value `offset` places after its start, 0.0 where the group is shorter."""
    at = starts + offset
    inside = at < ends
    found = np.zeros(len(starts))
    found[inside] = values[at[inside]]
    return found


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
