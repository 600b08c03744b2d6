"""What off-topic questions find in a collection.

A build asks its own collection the questions of data/off_topic_questions.tsv (everyday
topics no list of these links answers) and keeps the evidence of each one's hits. A hit
is then weak when it is less likely relevant than the calibrated threshold, or than what
most off-topic questions reach in this very collection, whichever is lower: in a list of
eleven papers an off-topic question's best hit is far weaker than in a collection of
thousands, and a paraphrase of one paper's title no closer than it would be there.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from indexer.hits import clean_query
from indexer.query import data_rows

QUESTIONS = Path(__file__).parent / "data" / "off_topic_questions.tsv"
HITS = 10  # hits kept per question, as many as a search shows
_LOG = logging.getLogger(__name__)


@functools.cache
def off_topic_questions() -> tuple[str, ...]:
    """The questions as a search reads them (normalised, so that their vectors made
    ahead are found by the text the search embeds)."""
    cleaned = (clean_query(row[0], len(row[0]))[0] for row in data_rows(QUESTIONS, 1))
    return tuple(question for question in cleaned if question)


class _Asked:
    """An embedder of the off-topic questions, from their vectors made ahead: a search
    encodes its query alone, which cost a build 90 ms for 48 questions, where one batch
    took 26 ms and the user's cache takes none. A text the search made of a question (cut
    to a shorter RECALL_MAX_QUERY_CHARS, say) is encoded by the model."""

    def __init__(self, model: str, vectors: np.ndarray, load_model: Callable):
        self.name, self.dimension = model, vectors.shape[1]
        self._vectors = dict(zip(off_topic_questions(), vectors, strict=True))
        self._load_model = load_model

    def encode_queries(self, texts) -> np.ndarray:
        missing = [text for text in texts if text not in self._vectors]
        if missing:
            encoded = self._load_model().encode_queries(missing)
            self._vectors.update(zip(missing, encoded, strict=True))
        return np.stack([self._vectors[text] for text in texts])


def question_vectors(model: str, load_model: Callable, dimension: int) -> np.ndarray:
    """The off-topic questions' query vectors for `model` (of `dimension`), kept in the
    user's model cache (as the glossary's tokens are): a build with nothing new to embed
    then loads no model to ask them."""
    questions = off_topic_questions()
    path = cached_vectors(model)
    try:
        vectors = np.load(path)
        # Damage inside the numbers shows as vectors no longer of unit length; a model
        # changed under its name, as vectors of another length.
        if vectors.shape == (len(questions), dimension) and _unit(vectors):
            return vectors
    except (OSError, ValueError, EOFError):
        pass  # not made yet, or damaged: made again below
    vectors = np.asarray(load_model().encode_queries(questions), dtype=np.float32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.npy")
        np.save(partial, vectors)
        os.replace(partial, path)
    except OSError as exc:  # a read-only home: encoded again by the next build
        _LOG.info("off-topic question vectors not cached in %s: %s", path, exc)
    return vectors


def cached_vectors(model: str) -> Path:
    """Where the user's cache keeps the questions' vectors for `model`."""
    from indexer.config import load_settings

    digest = hashlib.sha256("\0".join((model, *off_topic_questions())).encode()).hexdigest()
    return load_settings().model_cache_dir / f"off-topic-vectors-{digest[:16]}.npy"


def _unit(vectors: np.ndarray) -> bool:
    return bool(np.all(np.abs(np.linalg.norm(vectors, axis=1) - 1.0) < 1e-3))


def measure_off_topic(
    index_path: Path, model: str, load_model: Callable, dimension: int
) -> dict | None:
    """Each off-topic question's hits in the just written index at `index_path` (built
    with `model`, vectors of `dimension`), as the calibration's evidence [similarity,
    coverage, absent], best hit first; None when they cannot be asked (the model cannot
    be loaded, say): the build is then published without them, its hits weak only below
    the calibrated threshold."""
    from indexer.search import Searcher
    from indexer.store import IndexReader

    reader = None
    try:
        vectors = question_vectors(model, load_model, dimension)
        reader = IndexReader(index_path, verify=False)  # written a moment ago
        searcher = Searcher(reader, _Asked(model, vectors, load_model))
        hits = [
            [
                [round(similarity, 4), round(coverage, 4), int(absent)]
                for similarity, coverage, absent in searcher.evidence(question, HITS)
            ]
            for question in off_topic_questions()
        ]
    except Exception as exc:  # whatever it was, the build goes on without them
        _LOG.warning("off-topic questions not asked of %s: %s", index_path, exc)
        return None
    finally:
        if reader is not None:
            reader.close()
    return {"questions": len(hits), "hits": hits}
