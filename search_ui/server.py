"""The app's server: `streamlit run search_ui/server.py`, which `recall ui` runs.

Before it listens it loads the model and the served index, and says so, so that the first
visitor's first answer does not wait for them. It also imports the page (search_ui/page.py,
drawn by search_ui/app.py) with all that the page imports, and the icon tables of
Streamlit's that the page's icons are looked up in: together 0.3 s of the first visitor's
first run otherwise (bench/startup.py).
"""

import contextlib
import importlib
import sys
from pathlib import Path

import streamlit as st

import search_ui.page  # noqa: F401  (imported before the server listens: see above)
from indexer.config import served_index
from indexer.embed import ModelLoadError
from indexer.live import live_index
from indexer.store import IndexProblem

# Streamlit's own, imported when a page first names an icon; a version without them only
# loses the head start.
ICON_TABLES = ("streamlit.emojis", "streamlit.material_icon_names")


@contextlib.asynccontextmanager
async def lifespan(_app):
    for name in ICON_TABLES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    try:
        print(f"Recall app: {live_index(served_index()).ready()}", file=sys.stderr, flush=True)
    except (IndexProblem, ModelLoadError) as exc:  # the page then says how to build one
        print(f"Recall app: no usable index yet ({exc})", file=sys.stderr, flush=True)
    yield


app = st.App(Path(__file__).with_name("app.py"), lifespan=lifespan)
