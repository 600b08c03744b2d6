"""The app's server: `streamlit run search_ui/server.py`, which `recall ui` runs.

It loads the model and the served index before it listens, and says so, so that the first
visitor's first answer does not wait for them. The pages are search_ui/app.py.
"""

import contextlib
import sys
from pathlib import Path

import streamlit as st

from indexer.config import served_index
from indexer.embed import ModelLoadError
from indexer.live import live_index
from indexer.store import IndexProblem


@contextlib.asynccontextmanager
async def lifespan(_app):
    try:
        print(f"Recall app: {live_index(served_index()).ready()}", file=sys.stderr, flush=True)
    except (IndexProblem, ModelLoadError) as exc:  # the page then says how to build one
        print(f"Recall app: no usable index yet ({exc})", file=sys.stderr, flush=True)
    yield


app = st.App(Path(__file__).with_name("app.py"), lifespan=lifespan)
