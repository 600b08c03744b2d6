"""The app's handle on the engine: the model and the index, each loaded once per process.

The embedder is cached by model name and the searcher by (index path, build id). Each
run reads only the small manifest, so when `recall build` publishes a new index the next
run opens it, reusing the already loaded model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from indexer.config import load_settings
from indexer.embed import Embedder, load_embedder
from indexer.search import Filters, Hit, Searcher, SearchResponse
from indexer.store import read_manifest


def index_path() -> Path:
    """The index the app serves: RECALL_INDEX, or the default data/index.

    Absolute but not resolved: the index path is a symlink that each build re-points."""
    return load_settings().index_dir.absolute()


@st.cache_resource(show_spinner=False)
def embedder_for(model: str) -> Embedder:
    return load_embedder(model)


@st.cache_resource(show_spinner=False, max_entries=2)
def _searcher(path: str, build_id: str) -> Searcher:
    manifest = read_manifest(Path(path))
    searcher = Searcher.open(Path(path), embedder=embedder_for(manifest["model"]))
    # The Korean tokenizer loads on first use (seconds): pay that with the index load,
    # behind its spinner, rather than on the first question.
    searcher.search("시계열 time series", k=1)
    return searcher


@dataclass(frozen=True)
class Engine:
    """The searcher of the build currently published at `path`."""

    path: Path
    searcher: Searcher

    @property
    def build_id(self) -> str:
        return self.searcher.build_id


def open_engine(path: Path) -> Engine:
    """The published index at `path`; raises IndexProblem (or ModelLoadError) as the store does.

    The manifest is read on every call (a few hundred bytes) and its build id is part of
    the cache key, so a rebuild is picked up without a restart.
    """
    return Engine(path, _searcher(str(path), read_manifest(path)["build_id"]))


# Searches and related lookups are cached per build, so reruns caused by other widgets
# (opening "Related", switching the language) redraw without searching again.


@st.cache_data(show_spinner=False, max_entries=512)
def search(
    _engine: Engine, build_id: str, query: str, k: int, filters: Filters, mode: str
) -> SearchResponse:
    return _engine.searcher.search(query, k=k, filters=filters, mode=mode)


@st.cache_data(show_spinner=False, max_entries=2048)
def related(_engine: Engine, build_id: str, ref: str, k: int = 5) -> list[Hit]:
    return _engine.searcher.related(ref, k=k)


def doc(engine: Engine, ref: str) -> dict | None:
    """The stored record of a resource (without its page text), by id or URL."""
    pos = engine.searcher.resolve(ref)
    return None if pos is None else engine.searcher.docs[pos]


@st.cache_data(show_spinner=False, max_entries=4)
def facets(_engine: Engine, build_id: str) -> dict:
    return _engine.searcher.facets()
