"""The BM25 keyword index over analysed passages: build, search, explain, save and load."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import bm25s
import numpy as np

from indexer.morphology import tokenize_many

_MANIFEST = "lexical.json"
_FORMAT = 1
_BM25_FILES = {
    "data_name": "bm25.data.npy",
    "indices_name": "bm25.indices.npy",
    "indptr_name": "bm25.indptr.npy",
    "vocab_name": "bm25.vocab.json",
    "params_name": "bm25.params.json",
}


class LexicalIndexError(RuntimeError):
    """A saved lexical index is missing, truncated or corrupt."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _empty_hits() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)


class LexicalIndex:
    """BM25 over tokenized passages; ids are positions in the corpus it was built from."""

    def __init__(self, bm25: bm25s.BM25 | None, num_docs: int) -> None:
        # bm25 is None when no document has a single token: bm25s cannot index that.
        self._bm25 = bm25
        self._num_docs = num_docs

    @classmethod
    def from_tokens(cls, token_lists: Iterable[Sequence[str]]) -> LexicalIndex:
        """Index documents already split by `tokenize` (queries are tokenized the same way)."""
        documents = [list(tokens) for tokens in token_lists]
        if not any(documents):
            return cls(None, len(documents))
        bm25 = bm25s.BM25()
        bm25.index(documents, show_progress=False)
        return cls(bm25, len(documents))

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> LexicalIndex:
        return cls.from_tokens(tokenize_many(texts))

    def __len__(self) -> int:
        return self._num_docs

    def search(self, tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ids (int64) and BM25 scores (float32, descending) of the best `k` documents
        sharing at least one of the query's tokens (split by `tokenize`); empty arrays when
        none does."""
        if self._bm25 is None or k <= 0:
            return _empty_hits()
        ids = self._bm25.get_tokens_ids(list(dict.fromkeys(tokens)))
        if not ids:
            return _empty_hits()
        scores = self._bm25.get_scores_from_ids(ids)
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:  # only the best k (and any tied with the k-th) need sorting
            kth_best = np.partition(scores[hits], len(hits) - k)[len(hits) - k]
            hits = hits[scores[hits] >= kth_best]
        best = hits[np.lexsort((hits, -scores[hits]))][:k]
        return best.astype(np.int64), scores[best].astype(np.float32)

    def tokens_in(self, tokens: Sequence[str], rows: Iterable[int]) -> dict[int, set[str]]:
        """Which of `tokens` each document in `rows` contains, read from the index's
        postings: explaining a keyword match costs no second analysis of the text."""
        found: dict[int, set[str]] = {int(row): set() for row in rows}
        if self._bm25 is None or not found:
            return found
        indptr, indices = self._bm25.scores["indptr"], self._bm25.scores["indices"]
        wanted = np.fromiter(found, dtype=np.int64, count=len(found))
        for token in dict.fromkeys(tokens):
            token_id = self._bm25.vocab_dict.get(token)
            if token_id is None:
                continue
            postings = indices[indptr[token_id] : indptr[token_id + 1]]  # sorted (CSC)
            at = np.minimum(np.searchsorted(postings, wanted), max(len(postings) - 1, 0))
            for row in wanted[postings[at] == wanted] if len(postings) else ():
                found[int(row)].add(token)
        return found

    def save(self, directory: Path) -> None:
        """Write the index files into `directory`; the caller publishes them atomically."""
        directory.mkdir(parents=True, exist_ok=True)
        checksums = {}
        if self._bm25 is not None:
            self._bm25.save(directory, show_progress=False, **_BM25_FILES)
            checksums = {name: _sha256(directory / name) for name in _BM25_FILES.values()}
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
        if set(checksums) != set(_BM25_FILES.values()):
            raise LexicalIndexError(f"{manifest_path}: unexpected file list {sorted(checksums)}")
        for name, expected in checksums.items():
            path = directory / name
            try:
                actual = _sha256(path)
            except OSError as exc:
                raise LexicalIndexError(f"cannot read lexical index file {path}: {exc}") from exc
            if actual != expected:
                raise LexicalIndexError(f"lexical index file {path} is truncated or corrupt")
        try:
            bm25 = bm25s.BM25.load(directory, show_progress=False, **_BM25_FILES)
        except (OSError, ValueError) as exc:
            raise LexicalIndexError(f"cannot load the BM25 index in {directory}: {exc}") from exc
        return cls(bm25, num_docs)
