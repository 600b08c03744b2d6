"""The app's handle on the engine: the model and the index, each loaded once per process.

The index is a `LiveIndex` (indexer/live.py), shared with the JSON API: each run reads only
the small manifest, so when `recall build` publishes a new index the next run opens it,
reusing the already loaded model. `search_ui/server.py` opens it when the server starts,
so that the first visitor does not wait for the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from indexer.config import served_index
from indexer.hits import Filters, Hit, SearchResponse
from indexer.live import live_index
from indexer.search import Searcher


def index_path() -> Path:
    """The index the app serves: RECALL_INDEX, or the default data/index."""
    return served_index()


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

    The manifest is read on every call (a few hundred bytes), so a rebuild is picked up
    without a restart.
    """
    return Engine(path, live_index(path).searcher())


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
