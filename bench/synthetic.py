"""Index data of any size for the latency benchmark, for Recall's own store to write.

Each size's first passages are
the real ones of the adioshun lists (embedded with the bundled model); synthetic resources
fill the rest, each with 4 passages (a profile and three page passages):

- text: words drawn from the real passages' words with their real frequencies (Korean and
  English as they occur), lengths drawn from the real passages' word counts. BM25 tokens
  are Recall's own tokenizer applied once per distinct word (not per passage, which Kiwi
  would need hours for at 1M), then concatenated.
- vector: a random convex mix (Dirichlet(1,1,1)) of three real passage vectors plus a
  little Gaussian noise, normalised: synthetic vectors stay in the region the real ones
  occupy (nearest-neighbour similarities resemble the real ones) rather than spreading
  uniformly over the sphere, where no approximate index does well.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass, replace

import common
import numpy as np

from indexer.build import index_data
from indexer.chunk import Passage
from indexer.config import DEFAULT_MODEL, load_settings
from indexer.documents import doc_passages
from indexer.embed import load_embedder
from indexer.lexical import FIELDS, FieldIndex
from indexer.morphology import TOKENIZER_NAME, tokenize_many
from indexer.query import glossary_phrases
from indexer.store import IndexData, IndexReader

PASSAGES_PER_DOC = 4
NOISE = 0.1  # standard deviation of the noise added to a mixed vector, over all dimensions
SEED = 1234
FALLBACK_QUERIES = 100


@dataclass
class Base:
    """The real corpus the synthetic sizes grow from."""

    docs: list[dict]
    passages: list[Passage]
    passage_docs: np.ndarray
    vectors: np.ndarray
    tokens: list[list[str]]
    words: np.ndarray  # every whitespace word of every real passage (a frequency sample)
    word_tokens: dict[str, list[str]]
    lengths: np.ndarray  # word counts of the real passages
    queries: list[str]
    # The real lists' words and their vectors: the synthetic text draws on the same words.
    word_vectors: object  # indexer.wordbridge.WordVectors, None for a model without them


def load_base(log=print) -> Base:
    corpus = common.largest_corpus()
    embedder = load_embedder(DEFAULT_MODEL)
    index_dir = common.OUT / "latency" / "base" / "index"
    shutil.rmtree(index_dir.parent, ignore_errors=True)
    report, seconds = common.build_index(corpus, index_dir, DEFAULT_MODEL, embedder)
    log(f"  base: {corpus.name}, {report.passages} real passages embedded in {seconds:.1f} s")
    reader = IndexReader(index_dir)
    passages, positions = [], []
    for pos, doc in enumerate(reader.docs):
        for passage in doc_passages(doc, reader.page_text(doc["id"])):
            passages.append(passage)
            positions.append(pos)
    vectors = reader.vectors(list(range(reader.dense.ntotal)))
    docs = reader.docs
    known = reader.words
    word_vectors = known and replace(  # copied: the files close with the reader
        known,
        vectors=np.array(known.vectors),
        nearest=np.array(known.nearest),
        nearest_rows=np.array(known.nearest_rows),
    )
    reader.close()
    words = [word for p in passages for word in p.text.split()]
    vocabulary = sorted(set(words))
    queries = []
    for c in common.corpora():
        if c.missing() is None:
            queries += [item["q"] for item in c.eval_set().queries]
    queries = list(dict.fromkeys(queries)) or [d["title"] for d in docs[:FALLBACK_QUERIES]]
    return Base(
        docs=docs,
        passages=passages,
        passage_docs=np.asarray(positions, dtype=np.int32),
        vectors=vectors,
        tokens=tokenize_many(p.text for p in passages),
        words=np.asarray(words, dtype=object),
        word_tokens=dict(zip(vocabulary, tokenize_many(vocabulary), strict=True)),
        lengths=np.asarray([max(1, len(p.text.split())) for p in passages]),
        queries=queries,
        word_vectors=word_vectors,
    )


def _synthetic_doc(number: int, text: str, contributor: str, date: str) -> dict:
    title = " ".join(text.split()[:8])
    return {
        "id": f"synthetic-{number}",
        "kind": "resource",
        "url": f"https://synthetic.example/{number}",
        "title": title,
        "list_title": title,
        "type": "web",
        "domain": "synthetic.example",
        "contributors": [contributor],
        "dates": [date],
        "categories": [],
        "companions": [],
        "sections": [],
        "mentions": [
            {
                "contributor": contributor,
                "date": date,
                "section": "",
                "note": text,
                "source": "synthetic",
                "line": 0,
            }
        ],
        "fetch_status": "ok",
        "last_ok_at": None,
        "description": "",
    }


def _synthetic_vectors(base: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((count, base.shape[1]), dtype=np.float32)
    for start in range(0, count, 100_000):
        n = min(100_000, count - start)
        picks = rng.integers(0, len(base), (n, 3))
        weights = rng.dirichlet((1.0, 1.0, 1.0), n).astype(np.float32)
        mixed = np.einsum("nk,nkd->nd", weights, base[picks])
        mixed += NOISE / np.sqrt(base.shape[1]) * rng.standard_normal(mixed.shape, np.float32)
        out[start : start + n] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    return out


def make_index_data(base: Base, size: int, seed: int = SEED) -> tuple[IndexData, list[str]]:
    """`size` passages: a prefix of the real resources, then synthetic ones."""
    rng = np.random.default_rng(seed + size)
    real_docs = int(np.searchsorted(np.bincount(base.passage_docs).cumsum(), size, "right"))
    real_rows = int(np.sum(base.passage_docs < real_docs))
    docs = list(base.docs[:real_docs])
    passages = list(base.passages[:real_rows])
    positions = base.passage_docs[:real_rows].tolist()
    tokens = list(base.tokens[:real_rows])
    count = size - real_rows
    lengths = rng.choice(base.lengths, count)
    draws = base.words[rng.integers(0, len(base.words), int(lengths.sum()))]
    contributors = [c for d in base.docs for c in d["contributors"]] or ["someone"]
    dates = [x for d in base.docs for x in d["dates"]] or ["2019-01-01"]
    offset = 0
    for i, length in enumerate(lengths.tolist()):
        words = draws[offset : offset + length]
        offset += length
        text = " ".join(words)
        if i % PASSAGES_PER_DOC == 0:
            number = len(docs)
            docs.append(
                _synthetic_doc(
                    number,
                    text,
                    contributors[rng.integers(len(contributors))],
                    dates[rng.integers(len(dates))],
                )
            )
        kind = "profile" if i % PASSAGES_PER_DOC == 0 else "page"
        passages.append(Passage(docs[-1]["id"], kind, text, text))
        positions.append(len(docs) - 1)
        tokens.append(list(itertools.chain.from_iterable(base.word_tokens[w] for w in words)))
    vectors = np.concatenate(
        [base.vectors[:real_rows], _synthetic_vectors(base.vectors, count, rng)]
    )
    manifest = {
        "build_id": f"bench-{size}",
        "built_at": "",
        "model": DEFAULT_MODEL,
        "dimension": int(vectors.shape[1]),
        "tokenizer": TOKENIZER_NAME,
        "counts": {
            "resources": len(docs),
            "notes": 0,
            "docs": len(docs),
            "passages": size,
            "real_passages": real_rows,
        },
        "fetch_counts": {},
        "sources": [],
        "content_hash": "",
        "stage_seconds": {},
    }
    # Keyword fields per resource: its profile's words as notes, the rest as page text.
    fields = {name: [[] for _ in docs] for name in FIELDS}
    for passage, pos, words in zip(passages, positions, tokens, strict=True):
        fields["notes" if passage.kind == "profile" else "page"][pos].extend(words)
    lexical = FieldIndex.from_tokens(fields, glossary_phrases())
    threshold = load_settings().ann_threshold
    data = index_data(
        manifest, docs, passages, positions, vectors, lexical, {}, threshold, base.word_vectors
    )
    return data, [p.embed_text for p in passages]
