"""The page's controls: the interface language (in the sidebar), and the filters with the
advanced retrieval-mode switch behind a button beside the question box.

The filters live in a popover, which the browser draws only when it is opened: drawn in
the sidebar, their widgets delayed the first page, and so the first answer, by about half
a second (bench/startup.py).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from indexer.hits import MODES
from search_ui import state
from search_ui.i18n import LANGUAGE_NAMES, LANGUAGES, t, type_label

FILTER_KEYS = {"contributor": [], "since": None, "until": None, "type": [], "domain": []}


def language_switch(lang: str) -> None:
    st.sidebar.segmented_control(
        t(lang, "language"),
        LANGUAGES,
        format_func=LANGUAGE_NAMES.get,
        key="lang",
        required=True,
    )


def _clear_filters() -> None:
    st.session_state.update({key: value for key, value in FILTER_KEYS.items()})


def _facet_select(panel, lang: str, key: str, counts: dict[str, int], label=lambda value: value):
    """A multiselect over one facet's values, each shown with its count."""
    panel.multiselect(
        t(lang, key),
        list(counts),
        key=key,
        format_func=lambda value: f"{label(value)} ({counts.get(value, 0)})",
        placeholder=t(lang, "choose"),
    )


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def filters(lang: str, facets: dict) -> None:
    """Filter widgets behind a button that says how many settings differ from the defaults
    (each kind of filter, a date span once, and another retrieval mode); their values live
    in session state under the URL parameter names."""
    current = state.from_widgets()
    active = current.filters().kinds_set()
    changed = active + (current.mode != "hybrid")
    label = t(lang, "filters") + (f" · {changed}" if changed else "")
    panel = st.popover(label, icon=":material/tune:", type="primary" if changed else "secondary")
    _facet_select(panel, lang, "contributor", facets["contributors"])
    # The date pickers are drawn only when asked for: they are the heaviest widgets to load
    # in the browser, and a first answer would wait for them (bench/startup.py).
    if panel.toggle(t(lang, "by_date"), key="dates"):
        first, last = _day(facets["first_date"]), _day(facets["last_date"])
        since, until = panel.columns(2)
        since.date_input(
            t(lang, "since"), key="since", min_value=first, max_value=last, format="YYYY-MM-DD"
        )
        until.date_input(
            t(lang, "until"), key="until", min_value=first, max_value=last, format="YYYY-MM-DD"
        )
    _facet_select(panel, lang, "type", facets["types"], lambda kind: type_label(lang, kind))
    _facet_select(panel, lang, "domain", facets["domains"])
    if active:
        panel.button(t(lang, "clear_filters"), on_click=_clear_filters, icon=":material/close:")
    panel.divider()
    if panel.toggle(t(lang, "advanced"), key="advanced"):
        panel.radio(
            t(lang, "mode"),
            MODES,
            key="mode",
            format_func=lambda mode: t(lang, f"mode_{mode}"),
        )
