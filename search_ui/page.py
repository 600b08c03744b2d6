"""Recall's page: each run of the Streamlit script (search_ui/app.py) draws it.

It lives in a module rather than in the script so that the server (search_ui/server.py)
imports it, and all that it imports, before it listens: otherwise the first visitor's first
run pays for those imports.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from indexer.embed import ModelLoadError
from indexer.store import IndexProblem
from search_ui import controls, state
from search_ui import engine as eng
from search_ui.add_form import add_form
from search_ui.front import front_page
from search_ui.i18n import t
from search_ui.resource_page import resource_page
from search_ui.results import results
from search_ui.status_page import no_index_page, status_page

STYLE = Path(__file__).with_name("style.css")


def show() -> None:
    """The view the widgets and the URL ask for, under the header and beside the sidebar."""
    st.set_page_config(page_title="Recall", page_icon=":material/search:", layout="wide")
    st.html(STYLE)

    params = state.url_params()
    requested = state.from_params(params)
    path = eng.index_path()
    try:
        with st.spinner(t(requested.lang, "loading")):
            engine = eng.open_engine(path)
    except (IndexProblem, ModelLoadError) as problem:
        no_index_page(requested.lang, path, problem)
        return

    facets = eng.facets(engine, engine.build_id)
    if state.url_changed(params):
        state.seed_widgets(state.restrict(requested, facets))
    lang = st.session_state.get("lang") or requested.lang
    _header(lang, facets)
    controls.language_switch(lang)
    add_form(lang)

    current = state.from_widgets()
    state.write_url(current)
    if current.view == "status":
        status_page(engine, lang)
    elif current.resource:
        resource_page(engine, lang, current.resource)
    elif current.query:
        results(engine, current)
    else:
        front_page(engine, current)


def _header(lang: str, facets: dict) -> None:
    """The name, the switch between search and the collection's status, the question box
    and the filters beside it."""
    brand, nav = st.columns([3, 2], vertical_alignment="bottom")
    brand.title(t(lang, "app_title"), anchor=False)
    brand.caption(t(lang, "tagline"))
    with nav.container(horizontal=True, horizontal_alignment="right"):
        st.segmented_control(
            t(lang, "nav_search"),
            state.VIEWS,
            key="view",
            required=True,
            format_func=lambda view: t(lang, f"nav_{view}"),
            label_visibility="collapsed",
        )
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.text_input(
            t(lang, "search_label"),
            key="q",
            placeholder=t(lang, "placeholder"),
            label_visibility="collapsed",
            on_change=state.new_query,
            icon=":material/search:",
        )
        controls.filters(lang, facets)
