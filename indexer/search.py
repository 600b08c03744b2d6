"""Hybrid retrieval over an index: the dense and keyword rankers, their candidates, fusion,
per-resource ranking, filters and query expansion, and browsing the opened index; hits are
explained in explain.py and related resources found in related.py."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from pathlib import Path

import faiss
import numpy as np

from indexer.config import Settings, load_settings
from indexer.embed import Embedder, ModelLoadError, load_embedder
from indexer.explain import explain
from indexer.hits import MODES, Filters, Hit, SearchResponse, clean_query
from indexer.lexical import Masks, top_k
from indexer.morphology import analyse_many
from indexer.query import Bridge, QueryPlan, glossary, plan_query
from indexer.rank import (
    FUSIONS,
    Candidates,
    Ranking,
    fuse,
    glossary_held,
    keyword_scores,
    load_calibration,
)
from indexer.related import related
from indexer.resources import duplicate_key, normalize_url
from indexer.store import IndexIncompatible, IndexReader, check_tokenizer
from indexer.wordbridge import BLANK_LIKENESS, WORD_SIMILARITY, spelling

FIRST_DEPTH = 64  # passages per ranker before filters; deepened until k resources pass
EXPANSION_TOP = 3
EXPANSION_ALPHA = 3.0


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
        self._kind_masks: dict[str, np.ndarray] | None = None  # kind -> 1.0 for its resources
        self._glossary_held: tuple[tuple, float] | None = None  # (the glossary, its share)
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
        coverage = np.zeros(len(pos))
        return Candidates(pos, total, keyword_of, similarity, coverage, rows, spans)

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
        bridging = mode != "dense" and ranking.bridge and ranking.word_bridges
        asked = self._bridgeable(plan) if bridging else {}
        unknown = self.reader.words.unknown(asked) if asked else []
        # The query and the words the index lacks, embedded in one call.
        texts = ([plan.dense_text] if mode != "lexical" else []) + [asked[t] for t in unknown]
        encoded = self.embedder.encode_queries(texts) if texts else []
        vector = encoded[0] if mode != "lexical" else None
        if asked:
            words = dict(zip(unknown, encoded[len(texts) - len(unknown) :], strict=True))
            plan.bridges += self._word_bridges(asked, words)
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
            kept = self._one_per_page(candidates.pos, ranked, k)
            if len(kept) >= k or depth >= total:
                break
            depth *= 4
        absent = self._absent_terms(plan, known)
        against = self.absence(absent)
        shown = [candidates.at(int(i), float(scores[i])) for i in kept]
        found = {}  # dense mode: no keyword ranker ran
        if keyword is not None:
            bridged = [token for b in plan.bridges for alt in b.alternatives for token in alt]
            words = [*plan.topic_tokens, *bridged]
            found = self.reader.lexical.tokens_in(words, [c.pos for c in shown])
        passages = self.reader.passage_rows(row for c in shown for row in c.rows[:3])
        hits = [
            explain(
                rank,
                c,
                found.get(c.pos, {}),
                passages,
                plan,
                against,
                self.reader,
                self.calibration,
            )
            for rank, c in enumerate(shown, 1)
        ]
        no_close_match = all(hit.weak for hit in hits)  # also when nothing matched at all
        if not hits and message is None:
            message = "no matching resources" + (" for these filters" if filters.active() else "")
        return SearchResponse(text, _ms(started), hits, message, truncated, no_close_match, absent)

    def same_page(self, pos: int) -> list[int]:
        """The positions of the other addresses of the page the resource at `pos` links to
        (recorded by the build: `documents.same_pages`; none in an index built before), of
        those the index holds: a record naming one it lacks costs no search."""
        by_url = self._by_url
        return [by_url[url] for url in self.docs[pos].get("same_page", ()) if url in by_url]

    def _one_per_page(self, positions: np.ndarray, ranked: np.ndarray, k: int) -> list[int]:
        """The first `k` of `ranked` (candidate indices, best first) whose page no better one
        links to: a page posted under several addresses is shown once, at its best."""
        kept, shown = [], set()
        for i in ranked.tolist():
            if len(kept) == k:
                break
            pos = int(positions[i])
            if pos not in shown:
                kept.append(i)
                shown.update([pos, *self.same_page(pos)])
        return kept

    def _bridgeable(self, plan: QueryPlan) -> dict[str, str]:
        """The query's words (token -> as it is embedded) that no glossary term covers, in
        the query's order, when the index has words to bridge them to with its model."""
        words = self.reader.words
        if words is None or not len(words) or self.embedder.name not in WORD_SIMILARITY:
            return {}
        asked: dict[str, str] = {}
        for term in plan.topic_terms:
            if not any(bridge.stands_for(term) for bridge in plan.bridges):
                asked.setdefault(term.token, spelling(term.token, term.surface))
        return asked

    def _word_bridges(self, asked: dict[str, str], encoded: dict[str, np.ndarray]) -> list[Bridge]:
        """A bridge for each of the `asked` words whose translations the model finds among
        the index's words (indexer/wordbridge.py); `encoded`: the vectors of those the index
        lacks."""
        name = self.embedder.name
        found = self.reader.words.translations(
            asked, encoded, WORD_SIMILARITY[name], BLANK_LIKENESS.get(name)
        )
        return [
            Bridge(asked[token], tuple((word,) for word in close), (token,), learned=True)
            for token, close in found.items()
        ]

    def absence(self, absent_terms: list[str]) -> float:
        """What a query naming glossary terms that no resource holds (`absent_terms`) tells
        against every hit, for the calibration: the share of the glossary the collection
        holds (`rank.glossary_held`), or 0 when it names none it lacks. A list of eleven
        resources lacks most terms any question names, its answers' included; a collection
        that writes much of the field's vocabulary lacks a term when it is not there.
        (Fitted on the tuning half, this rather than 1 for any absent term kept the first
        relevant hit strong for 90% of the sample list's questions, not 85%, and told 82%
        of the adioshun lists' unanswerable ones, not 76%, their answered ones as strong.)"""
        return self.glossary_held if absent_terms else 0.0

    @property
    def glossary_held(self) -> float:
        """`rank.glossary_held` of the index, worked out the first time a query needs it
        (6 ms at 100,000 resources) and again when the glossary is read again
        (`query.reload_tables`)."""
        entries = glossary()
        if self._glossary_held is None or self._glossary_held[0] is not entries:
            self._glossary_held = (entries, glossary_held(self.reader.lexical))
        return self._glossary_held[1]

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
        """Each candidate's coverage, which the fusion and the confidence count: the weighted
        share of the query's topic words it holds, as asked or through a bridge standing in
        for them (the glossary's, or the model's translation: indexer/wordbridge.py)."""
        lexical = self.reader.lexical
        asked = plan.topic_tokens
        rarity = lexical.rarity(asked) if ranking.coverage_idf else {}
        weights = {token: rarity.get(token, 1.0) * ranking.word_weight(token) for token in asked}
        total = sum(weights.values())
        if not total or not len(positions):
            return np.zeros(len(positions))
        held = {token: lexical.held_at([token], positions, known) for token in weights}
        for bridge in plan.bridges:
            found = np.zeros(len(positions), dtype=bool)
            for alternative in bridge.alternatives:
                found |= lexical.held_at(alternative, positions, known)
            for term in plan.topic_terms:  # the query's words the bridge stands in for
                if bridge.stands_for(term):
                    held[term.token] = held[term.token] | found
        return sum(weights[t] * held[t] for t in weights) / total

    def _preferred(self, intents: set[str]) -> np.ndarray | None:
        """1.0 for each resource of a kind the query asks for ("LSTM 논문": papers)."""
        if not intents:
            return None
        return np.max([self._kind_mask(intent) for intent in sorted(intents)], axis=0)

    def _kind_mask(self, intent: str) -> np.ndarray:
        if self._kind_masks is None:  # every kind in one pass over the records, when first asked
            self._kind_masks = {}
            for pos, doc in enumerate(self.docs):
                for kind in doc.get("kinds", ()):
                    if kind not in self._kind_masks:
                        self._kind_masks[kind] = np.zeros(len(self.docs), np.float32)
                    self._kind_masks[kind][pos] = 1.0
        if intent not in self._kind_masks:  # a kind no resource is
            self._kind_masks[intent] = np.zeros(len(self.docs), np.float32)
        return self._kind_masks[intent]

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
        """The `k` resources most related to the one given by id or URL (KeyError if none)."""
        pos = self.resolve(ref)
        if pos is None:
            raise KeyError(f"no resource with id or URL {ref!r} in the index")
        return related(self.reader, self.ranking, pos, self._by_url, k, self.same_page)


def _at_offset(values: np.ndarray, starts: np.ndarray, ends: np.ndarray, offset: int) -> np.ndarray:
    """Each group's value `offset` places after its start, 0.0 where the group is shorter."""
    at = starts + offset
    inside = at < ends
    found = np.zeros(len(starts))
    found[inside] = values[at[inside]]
    return found


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
