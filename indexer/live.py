"""The index a long-lived process serves (the app, the JSON API): the searcher of whichever
build is published at a path, opened again when a rebuild publishes a new one, with the
model loaded once per process."""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path

from indexer.config import Settings, load_settings
from indexer.search import Searcher
from indexer.store import read_manifest

# Searched on opening: the encoder's first query and the index's first reads (and the
# glossary's tokens) should not be a visitor's.
_WARM_UP_QUERY = "시계열 time series"


class LiveIndex:
    """The searcher of the build currently published at `path`.

    Each call reads only the small manifest; when its build id changes the new build is
    opened with the same embedder (`load_embedder` caches models per process). A searcher
    already handed out stays usable: its reader is pinned to its build.
    """

    def __init__(self, path: Path, settings: Settings | None = None) -> None:
        self.path = path
        self.settings = settings or load_settings()
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None
        self.opened_in: float | None = None  # seconds the last opening took

    def searcher(self) -> Searcher:
        """The current build's searcher; raises IndexProblem when there is no usable index."""
        current = self._searcher
        if current is not None and current.build_id == self._published():
            return current
        with self._lock:  # one opening at a time; the threads waiting then find it open
            current = self._searcher
            if current is None or current.build_id != self._published():
                started = time.perf_counter()
                current = Searcher.open(self.path, settings=self.settings)
                current.search(_WARM_UP_QUERY, k=1)
                self._searcher = current
                self.opened_in = time.perf_counter() - started
            return current

    def ready(self) -> str:
        """Open the served index now (loading the model); says what is ready, how fast."""
        searcher = self.searcher()
        return (
            f"ready: index {self.path} (build {searcher.build_id}), model "
            f"{searcher.embedder.name}, loaded in {self.opened_in:.1f} s"
        )

    def _published(self) -> str:
        return read_manifest(self.path)["build_id"]


@functools.lru_cache(maxsize=8)
def live_index(path: Path) -> LiveIndex:
    """The process's LiveIndex for `path` (absolute, not resolved: a build re-points it)."""
    return LiveIndex(path)
