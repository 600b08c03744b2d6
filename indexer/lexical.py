"""The BM25 keyword index over analysed passages: build, search, explain, save and load."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

from indexer.lexicon import analyse_query, compound_parts, word_spans
from indexer.morphology import Term

_MANIFEST = "lexical.json"
_FORMAT = 3  # 2: Recall's own postings (1 was bm25s's files); 3: compounds.json
K1 = 1.5  # how soon repeating a word stops adding to its score
# scores, document ids, each token's slice
_ARRAY_FILES = {name: f"bm25.{name}.npy" for name in ("data", "indices", "indptr")}
_VOCAB = "bm25.vocab.json"
_FILES = (*_ARRAY_FILES.values(), _VOCAB)


class LexicalIndexError(RuntimeError):
    """A saved lexical index is missing, truncated or corrupt."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, expected_sha256: str) -> None:
    """LexicalIndexError unless the file at `path` has the checksum the manifest gives."""
    try:
        actual = _sha256(path)
    except OSError as exc:
        raise LexicalIndexError(f"cannot read lexical index file {path}: {exc}") from exc
    if actual != expected_sha256:
        raise LexicalIndexError(f"lexical index file {path} is truncated or corrupt")


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ids (int64) and scores (float32, descending, ties by id) of the best `k` positive
    scores."""
    hits = np.flatnonzero(scores > 0)
    if k <= 0 or not len(hits):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    if len(hits) > k:  # only the best k (and any tied with the k-th) need sorting
        kth_best = np.partition(scores[hits], len(hits) - k)[len(hits) - k]
        hits = hits[scores[hits] >= kth_best]
    best = hits[np.lexsort((hits, -scores[hits]))][:k]
    return best.astype(np.int64), scores[best].astype(np.float32)


# (token, fields) -> which documents hold the token in one of the fields, for one query
Masks = dict[tuple[str, tuple[str, ...]], np.ndarray]
_NO_ROWS = np.zeros(0, dtype=np.int32)


def _summed(num_docs: int, matched: list[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """Each document's total of the (rows, scores, weight) postings, weight × score in
    float32, as float32."""
    if not matched:
        return np.zeros(num_docs, dtype=np.float32)
    rows = np.concatenate([rows for rows, _, _ in matched])
    scores = np.concatenate([scores for _, scores, _ in matched])
    weights = np.array([weight for _, _, weight in matched], dtype=np.float32)
    scores *= np.repeat(weights, [len(rows) for rows, _, _ in matched])
    return np.bincount(rows, scores, minlength=num_docs).astype(np.float32)


def among(sorted_rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Whether each of `wanted` is one of `sorted_rows` (ascending)."""
    if not len(sorted_rows):
        return np.zeros(len(wanted), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_rows, wanted), len(sorted_rows) - 1)
    return sorted_rows[at] == wanted


@dataclass(frozen=True)
class _Postings:
    """BM25 scores in compressed sparse columns: token i's documents are
    indices[indptr[i]:indptr[i + 1]] (ascending) and its score in each is data[...]."""

    vocab: dict[str, int]
    data: np.ndarray  # float32
    indices: np.ndarray  # int32 document rows
    indptr: np.ndarray  # int64, one more than the vocabulary

    def rows_of(self, token_id: int) -> np.ndarray:
        return self.indices[self.indptr[token_id] : self.indptr[token_id + 1]]


def _postings(documents: list[list[str]], b: float) -> _Postings:
    """Lucene's BM25 (Kamphuis et al., ECIR 2020): idf = ln(1 + (N - df + 0.5) / (df + 0.5)),
    weighted by tf / (tf + K1 · (1 - b + b · length / mean length)), computed for every
    (token, document) pair at once."""
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(token, len(vocab)) for token in doc] for doc in documents]
    num_docs = len(ids)
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=num_docs)
    tokens = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
    rows = np.repeat(np.arange(num_docs, dtype=np.int64), lengths)
    pairs, tf = np.unique(tokens * num_docs + rows, return_counts=True)  # token-major order
    token_of, row_of = np.divmod(pairs, num_docs)
    df = np.bincount(token_of, minlength=len(vocab))
    idf = np.log1p((num_docs - df + 0.5) / (df + 0.5))
    norm = K1 * ((1 - b) + b * lengths[row_of] / lengths.mean())
    scores = idf[token_of] * tf / (tf + norm)
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    return _Postings(vocab, scores.astype(np.float32), row_of.astype(np.int32), indptr)


class LexicalIndex:
    """BM25 over tokenized passages; ids are positions in the corpus it was built from."""

    def __init__(self, postings: _Postings | None, num_docs: int) -> None:
        self._postings = postings  # None when no document has a single token
        self._num_docs = num_docs
        self._tokens: list[str] | None = None  # token ids to tokens, made when asked

    @classmethod
    def from_tokens(cls, token_lists: Iterable[Sequence[str]], b: float = 0.75) -> LexicalIndex:
        """Index documents already split by `tokenize` (queries are tokenized the same way);
        `b` is how much a long document's matches are discounted (0: not at all)."""
        documents = [list(tokens) for tokens in token_lists]
        if not any(documents):
            return cls(None, len(documents))
        return cls(_postings(documents, b), len(documents))

    def __len__(self) -> int:
        return self._num_docs

    def knows(self, token: str) -> bool:
        return self._postings is not None and token in self._postings.vocab

    def _token_ids(self, tokens: Sequence[str]) -> list[int]:
        vocab = self._postings.vocab if self._postings else {}
        return [vocab[token] for token in dict.fromkeys(tokens) if token in vocab]

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """The BM25 score (float32) of every document for the query's tokens, 0 where a
        document has none of them."""
        return _summed(self._num_docs, self.postings_of(tokens))

    def postings_of(
        self, tokens: Sequence[str], weight: float = 1.0
    ) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """One (document rows (int32), BM25 scores (float32), `weight`) part per token of
        the query that the index holds."""
        postings = self._postings
        spans = [slice(postings.indptr[i], postings.indptr[i + 1]) for i in self._token_ids(tokens)]
        return [(postings.indices[span], postings.data[span], weight) for span in spans]

    def rows(self, token: str) -> np.ndarray:
        """The documents (int32 rows, ascending) holding `token`."""
        token_id = self._postings.vocab.get(token) if self._postings else None
        return _NO_ROWS if token_id is None else self._postings.rows_of(token_id)

    def document_frequencies(self) -> dict[str, int]:
        """Each token and how many documents hold it."""
        if self._postings is None:
            return {}
        return dict(zip(self._postings.vocab, np.diff(self._postings.indptr).tolist(), strict=True))

    def tokens_in(self, tokens: Sequence[str], rows: Iterable[int]) -> dict[int, set[str]]:
        """Which of `tokens` each document in `rows` contains, read from the index's
        postings: explaining a keyword match costs no second analysis of the text."""
        found: dict[int, set[str]] = {int(row): set() for row in rows}
        if self._postings is None or not found:
            return found
        wanted = np.fromiter(found, dtype=np.int64, count=len(found))
        for token in dict.fromkeys(tokens):
            token_id = self._postings.vocab.get(token)
            if token_id is None:
                continue
            for row in wanted[among(self._postings.rows_of(token_id), wanted)]:
                found[int(row)].add(token)
        return found

    def doc_tokens(self, row: int) -> list[str]:
        """The distinct tokens document `row` holds, read from the postings (in the order the
        corpus first used them): a document's words without analysing its text again."""
        if self._postings is None:
            return []
        indptr, indices = self._postings.indptr, self._postings.indices
        token_ids = np.searchsorted(indptr, np.flatnonzero(indices == row), side="right") - 1
        if self._tokens is None:
            self._tokens = list(self._postings.vocab)
        return [self._tokens[int(token_id)] for token_id in token_ids]

    def save(self, directory: Path) -> None:
        """Write the index files into `directory`; the caller publishes them atomically."""
        directory.mkdir(parents=True, exist_ok=True)
        checksums = {}
        if self._postings is not None:
            for name, file in _ARRAY_FILES.items():
                np.save(directory / file, getattr(self._postings, name))
            vocab = json.dumps(list(self._postings.vocab), ensure_ascii=False)
            (directory / _VOCAB).write_text(vocab, encoding="utf-8")
            checksums = {name: _sha256(directory / name) for name in _FILES}
        manifest = {"format": _FORMAT, "num_docs": self._num_docs, "files": checksums}
        (directory / _MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        """Read an index written by `save`, checking every file against its checksum so that
        a truncated or corrupt file fails here, naming it, instead of mis-ranking later."""
        manifest_path = directory / _MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            version, num_docs, checksums = (
                manifest["format"],
                int(manifest["num_docs"]),
                dict(manifest["files"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LexicalIndexError(
                f"cannot read lexical index manifest {manifest_path}: {exc}"
            ) from exc
        if version != _FORMAT:
            raise LexicalIndexError(
                f"{manifest_path}: unsupported lexical index format {version!r}"
            )
        if not checksums:
            return cls(None, num_docs)
        if set(checksums) != set(_FILES):
            raise LexicalIndexError(f"{manifest_path}: unexpected file list {sorted(checksums)}")
        for name, expected in checksums.items():
            _verify(directory / name, expected)
        try:
            arrays = {name: np.load(directory / file) for name, file in _ARRAY_FILES.items()}
            tokens = json.loads((directory / _VOCAB).read_text(encoding="utf-8"))
            postings = _Postings({token: i for i, token in enumerate(tokens)}, **arrays)
        except (OSError, ValueError, TypeError) as exc:
            raise LexicalIndexError(f"cannot load the BM25 index in {directory}: {exc}") from exc
        if len(postings.indptr) != len(tokens) + 1 or len(postings.data) != len(postings.indices):
            raise LexicalIndexError(f"the BM25 index in {directory} does not fit together")
        return cls(postings, num_docs)


# Fields of a resource, each scored by its own BM25 so that each has its own length
# normalisation: a long note is not discounted like a long page, and a heading word
# does not count like a title word (the weights are query-time, see indexer/rank.py).
FIELD_B = {
    "title": 0.3,
    "notes": 0.2,  # contributors' words: a long description is not weaker evidence
    "headings": 0.5,  # headings, categories and the list's name
    "url": 0.3,
    "people": 0.0,
    "context": 0.3,  # the conversation a chat link was posted in
    "page": 0.75,
}
FIELDS = tuple(FIELD_B)
_FIELDS_MANIFEST = "fields.json"
_COMPOUNDS = "compounds.json"  # Kiwi's parts of the documents' Korean compounds
# Where each sought term of several words stands together: the terms, then the rows of each
_PHRASE_TERMS = "phrases.json"
_PHRASE_ARRAYS = {name: f"phrases.{name}.npy" for name in ("rows", "indptr")}
_PHRASE_FILES = (_PHRASE_TERMS, *_PHRASE_ARRAYS.values())
# A term's words stand together when no more than this many other written words come
# between them, in any order (a Korean compound and its parts count as one written word).
PHRASE_GAP = 1

Phrase = tuple[str, ...]  # a term's distinct tokens, in its order


def phrase_of(tokens: Iterable[str]) -> Phrase:
    """A term's tokens as the key its rows are recorded and looked up by."""
    return tuple(dict.fromkeys(tokens))


def _phrase_key(phrase: Phrase) -> tuple[str, tuple]:
    """The key of a phrase's mask among a query's masks (no token holds a NUL character)."""
    return ("\0".join(phrase), ())


def _together(positions: dict[str, list[int]], phrase: Phrase) -> bool:
    """Whether one stretch of a text (`positions`: token -> the places of the written words
    holding it) holds every token of `phrase` with at most PHRASE_GAP other words among
    them."""
    places = sorted((at, word) for word, token in enumerate(phrase) for at in positions[token])
    inside: dict[int, int] = {}
    first = 0
    for at, word in places:
        inside[word] = inside.get(word, 0) + 1
        while len(inside) == len(phrase):
            start, leaving = places[first]
            if at - start <= len(phrase) - 1 + PHRASE_GAP:
                return True
            inside[leaving] -= 1
            if not inside[leaving]:
                del inside[leaving]
            first += 1
    return False


def phrase_rows(
    field_tokens: dict[str, list[list[str]]], phrases: Iterable[Phrase]
) -> dict[Phrase, np.ndarray]:
    """For each of `phrases` (several distinct tokens each), the rows (int32, ascending) of
    the documents holding its words together in one field: "metric learning" is held by
    "deep metric learning", not by a note about an evaluation metric and learning. (A
    field's texts are one sequence: the last words of one note and the first of the next
    stand together.)"""
    by_first: dict[str, list[Phrase]] = {}
    for phrase in dict.fromkeys(map(phrase_of, phrases)):
        if len(phrase) > 1:
            by_first.setdefault(phrase[0], []).append(phrase)
    found: dict[Phrase, set[int]] = {p: set() for ps in by_first.values() for p in ps}
    firsts = set(by_first)
    for lists in field_tokens.values():
        for row, tokens in enumerate(lists):
            held = set(tokens)
            starting = held & firsts  # a set with a set: the smaller one is walked
            candidates = [
                phrase
                for first in starting
                for phrase in by_first[first]
                if held.issuperset(phrase[1:])
            ]
            if not candidates:
                continue
            wanted = set().union(*candidates)
            positions: dict[str, list[int]] = {}
            for place, (at, after) in enumerate(word_spans(tokens)):
                for token in tokens[at:after]:
                    if token in wanted:
                        positions.setdefault(token, []).append(place)
            for phrase in candidates:
                if _together(positions, phrase):
                    found[phrase].add(row)
    return {p: np.array(sorted(rows), dtype=np.int32) for p, rows in found.items()}


class FieldIndex:
    """One BM25 index per resource field; row i of every field is resource (doc) i."""

    def __init__(
        self,
        fields: dict[str, LexicalIndex],
        num_docs: int,
        compounds: dict[str, tuple[str, ...]],
        phrases: dict[Phrase, np.ndarray] | None = None,
    ) -> None:
        self.fields = fields
        self.num_docs = num_docs
        self.compounds = compounds  # for reading queries: indexer/lexicon.py
        # The terms of several words looked for when it was built (the glossary's), with
        # the rows holding each one's words together; any other term (an index built
        # before, or a glossary edited since) is held where all its words are.
        self.phrases = phrases or {}
        self._anywhere: dict[str, int] = {}  # `_held_anywhere`

    @classmethod
    def from_tokens(
        cls, field_tokens: dict[str, list[list[str]]], phrases: Iterable[Phrase] = ()
    ) -> FieldIndex:
        counts = {len(lists) for lists in field_tokens.values()}
        if len(counts) > 1:
            raise ValueError(f"fields disagree on the number of documents: {sorted(counts)}")
        num_docs = counts.pop() if counts else 0
        fields = {
            name: LexicalIndex.from_tokens(field_tokens.get(name, [[]] * num_docs), FIELD_B[name])
            for name in FIELDS
        }
        compounds = compound_parts(chain.from_iterable(field_tokens.values()))
        return cls(fields, num_docs, compounds, phrase_rows(field_tokens, phrases))

    def __len__(self) -> int:
        return self.num_docs

    def knows(self, token: str) -> bool:
        """Whether any field holds `token`."""
        return any(index.knows(token) for index in self.fields.values())

    def analyse_query(self, text: str) -> list[Term]:
        """The query's terms as this index's words (indexer/lexicon.py): no Kiwi."""
        return analyse_query(text, self.knows, self.compounds)

    def scores(self, tokens: Sequence[str], weights: dict[str, float]) -> np.ndarray:
        """Σ over fields of weight × BM25 of the field, for every document: one sum over
        the postings of all fields (a large collection's arrays are made once, not per
        field)."""
        matched = []
        for name, weight in weights.items():
            if weight:
                matched += self.fields[name].postings_of(tokens, weight)
        return _summed(self.num_docs, matched)

    def holding_all(
        self, tokens: Sequence[str], names: Iterable[str], known: Masks | None = None
    ) -> np.ndarray:
        """Whether each document holds every one of `tokens` in one of the fields `names`.
        `known` keeps each token's mask for the next call: one query asks about the same
        words for its glossary terms, its coverage and its absent terms."""
        wanted = set(names)
        names = tuple(name for name in self.fields if name in wanted)  # one key per set
        phrase = phrase_of(tokens)
        rows = self.phrases.get(phrase)
        together = None if rows is None else self._together_mask(phrase, rows, known)
        if together is not None and len(names) == len(self.fields):
            # Words standing together in one field are each in it: no word's mask to make.
            return together.copy()
        held = np.full(self.num_docs, bool(names))
        for token in phrase:
            present = known.get((token, names)) if known is not None else None
            if present is None:
                present = np.zeros(self.num_docs, dtype=bool)
                for name in names:
                    present[self.fields[name].rows(token)] = True
                if known is not None:
                    known[token, names] = present
            held &= present
        if together is not None:  # a term of several words: where they stand together
            held &= together
        return held

    def held_at(
        self, tokens: Sequence[str], rows: np.ndarray, known: Masks | None = None
    ) -> np.ndarray:
        """`holding_all(tokens, self.fields, known)[rows]`, without making a mask over every
        document that `known` lacks: a few candidates are looked up in the postings."""
        names = tuple(self.fields)
        phrase = phrase_of(tokens)
        together = self.phrases.get(phrase)
        if together is not None:  # its words stand together in one field: each is in it
            mask = known.get(_phrase_key(phrase)) if known is not None else None
            return mask[rows] if mask is not None else among(together, rows)
        held = np.ones(len(rows), dtype=bool)
        for token in phrase:
            mask = known.get((token, names)) if known is not None else None
            if mask is not None:
                held &= mask[rows]
                continue
            present = np.zeros(len(rows), dtype=bool)
            for index in self.fields.values():
                present |= among(index.rows(token), rows)
            held &= present
        return held

    def _together_mask(self, phrase: Phrase, rows: np.ndarray, known: Masks | None) -> np.ndarray:
        """The mask of `rows`, the documents holding the words of `phrase` together."""
        key = _phrase_key(phrase)
        mask = known.get(key) if known is not None else None
        if mask is None:
            mask = np.zeros(self.num_docs, dtype=bool)
            mask[rows] = True
            if known is not None:
                known[key] = mask
        return mask

    def holds(self, tokens: Sequence[str], row: int, present: set[str]) -> bool:
        """Whether document `row`, which holds the tokens `present`, holds the term
        `tokens` (as `holding_all` decides)."""
        if not present.issuperset(tokens):
            return False
        together = self.phrases.get(phrase_of(tokens))
        if together is None:
            return True
        at = int(np.searchsorted(together, row))
        return at < len(together) and int(together[at]) == row

    def document_frequencies(self, names: Iterable[str]) -> dict[str, int]:
        """Each token of the fields `names` and how many documents hold it there (a
        document holding it in two fields counts twice)."""
        held: dict[str, int] = {}
        for name in names:
            for token, count in self.fields[name].document_frequencies().items():
                held[token] = held.get(token, 0) + count
        return held

    def any_holds(self, tokens: Sequence[str], known: Masks | None = None) -> bool:
        """Whether some document holds every one of `tokens` (each in any field); none holds
        no tokens."""
        if not tokens or not all(map(self.knows, tokens)):
            return False
        return len(set(tokens)) == 1 or bool(self.holding_all(tokens, self.fields, known).any())

    def rarity(self, tokens: Sequence[str]) -> dict[str, float]:
        """BM25's inverse document frequency of each token over the resources (any field
        holding it): a word most resources hold tells little about any one of them."""
        rarity = {}
        for token in dict.fromkeys(tokens):
            held = self._held_anywhere(token)
            rarity[token] = math.log(1 + (self.num_docs - held + 0.5) / (held + 0.5))
        return rarity

    def _held_anywhere(self, token: str) -> int:
        """How many documents hold `token` in some field, kept for the next query: the index
        never changes, and counting them takes a mask over every document (0.05 ms of a
        100,000-resource query's 6 for each word). At most one count per word it holds."""
        if not self.knows(token):
            return 0
        held = self._anywhere.get(token)
        if held is None:
            held = int(np.count_nonzero(self.holding_all([token], self.fields)))
            self._anywhere[token] = held
        return held

    def doc_tokens(self, row: int, names: Iterable[str]) -> list[str]:
        """The distinct tokens document `row` holds in the fields `names`."""
        return list(dict.fromkeys(t for name in names for t in self.fields[name].doc_tokens(row)))

    def tokens_in(self, tokens: Sequence[str], rows: Iterable[int]) -> dict[int, dict[str, set]]:
        """For each row, the fields holding some of `tokens`, and which ones."""
        rows = [int(row) for row in rows]
        found: dict[int, dict[str, set]] = {row: {} for row in rows}
        for name, index in self.fields.items():
            for row, present in index.tokens_in(tokens, rows).items():
                if present:
                    found[row][name] = present
        return found

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name, index in self.fields.items():
            index.save(directory / name)
        compounds = directory / _COMPOUNDS
        compounds.write_text(json.dumps(self.compounds, ensure_ascii=False), encoding="utf-8")
        terms = list(self.phrases)
        (directory / _PHRASE_TERMS).write_text(json.dumps(terms, ensure_ascii=False), "utf-8")
        sizes = [len(self.phrases[term]) for term in terms]
        arrays = {
            "rows": np.concatenate([self.phrases[t] for t in terms] or [_NO_ROWS]),
            "indptr": np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64),
        }
        for name, file in _PHRASE_ARRAYS.items():
            np.save(directory / file, arrays[name])
        manifest = {
            "format": _FORMAT,
            "num_docs": self.num_docs,
            "fields": list(self.fields),
            "compounds_sha256": _sha256(compounds),
            "phrases_sha256": {file: _sha256(directory / file) for file in _PHRASE_FILES},
        }
        (directory / _FIELDS_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> FieldIndex:
        path = directory / _FIELDS_MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            names, num_docs = list(manifest["fields"]), int(manifest["num_docs"])
            version, compounds_sha256 = manifest["format"], manifest["compounds_sha256"]
            phrases_sha256 = dict(manifest.get("phrases_sha256", {}))  # none before 2026-12
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LexicalIndexError(f"cannot read lexical index manifest {path}: {exc}") from exc
        if version != _FORMAT:
            raise LexicalIndexError(f"{path}: unsupported lexical index format {version!r}")
        if set(names) != set(FIELDS):
            raise LexicalIndexError(f"{path}: fields {names} are not {list(FIELDS)}")
        fields = {name: LexicalIndex.load(directory / name) for name in FIELDS}
        if any(len(index) != num_docs for index in fields.values()):
            raise LexicalIndexError(f"{path}: a field index does not hold {num_docs} documents")
        compounds = _load_compounds(directory / _COMPOUNDS, compounds_sha256)
        return cls(fields, num_docs, compounds, _load_phrases(directory, phrases_sha256, num_docs))


def _load_phrases(directory: Path, checksums: dict[str, str], num_docs: int) -> dict:
    if not checksums:
        return {}
    if set(checksums) != set(_PHRASE_FILES):
        raise LexicalIndexError(f"{directory}: unexpected phrase files {sorted(checksums)}")
    for file, checksum in checksums.items():
        _verify(directory / file, checksum)
    try:
        written = json.loads((directory / _PHRASE_TERMS).read_text("utf-8"))
        if not isinstance(written, list) or not all(
            isinstance(term, list) and term and all(isinstance(token, str) for token in term)
            for term in written
        ):
            raise ValueError("a term is not a list of tokens")
        terms = [tuple(term) for term in written]
        rows, indptr = (np.load(directory / _PHRASE_ARRAYS[name]) for name in ("rows", "indptr"))
        if len(indptr) != len(terms) + 1 or indptr[-1] != len(rows):
            raise ValueError("the terms and their rows do not fit together")
        if len(rows) and (rows.min() < 0 or rows.max() >= num_docs):
            raise ValueError(f"a row beyond the {num_docs} documents")
    except (OSError, ValueError, TypeError) as exc:
        raise LexicalIndexError(f"cannot read the phrases in {directory}: {exc}") from exc
    return {term: rows[indptr[i] : indptr[i + 1]] for i, term in enumerate(terms)}


def _load_compounds(path: Path, expected_sha256: str) -> dict[str, tuple[str, ...]]:
    _verify(path, expected_sha256)
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
        return {word: tuple(parts) for word, parts in table.items()}
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise LexicalIndexError(f"cannot read lexical index file {path}: {exc}") from exc
