"""Small deterministic stand-ins for slow real components, for plumbing tests."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class FakeEmbedder:
    """An `indexer.embed.Embedder` that hashes character trigrams into 64 dimensions.

    Deterministic across processes, instant, and texts sharing more trigrams get closer
    vectors, so ranking tests still mean something. `passage_batches` records every
    `encode_passages` call, for tests that check what was (re-)embedded.
    """

    name = "fake"
    dimension = 64

    def __init__(self) -> None:
        self.passage_batches: list[list[str]] = []

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        self.passage_batches.append(list(texts))
        return self._encode(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f"  {text.lower()} "  # never shorter than one trigram
            for start in range(len(padded) - 2):
                trigram = padded[start : start + 3].encode("utf-8", "surrogatepass")
                digest = hashlib.blake2b(trigram, digest_size=8).digest()
                vectors[row, int.from_bytes(digest, "little") % self.dimension] += 1.0
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors
