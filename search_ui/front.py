"""The page before the first question: newest resources, contributors, counts by type."""

from __future__ import annotations

import streamlit as st

from search_ui import engine as eng
from search_ui.cards import count_bars_html, entry_html
from search_ui.i18n import t, type_label
from search_ui.state import UIState, resource_href

NEWEST = 8
CONTRIBUTORS = 12


def front_page(engine: eng.Engine, current: UIState) -> None:
    lang = current.lang
    facets = eng.facets(engine, engine.build_id)
    counts = engine.searcher.reader.manifest["counts"]
    st.caption(
        t(
            lang,
            "front_counts",
            resources=counts["resources"],
            notes=counts["notes"],
            first=facets["first_date"] or "?",
            last=facets["last_date"] or "?",
        )
    )
    newest, side = st.columns([3, 2], gap="large")
    with newest:
        st.subheader(t(lang, "front_newest"), divider="gray")
        # One block of HTML whose entries link to their pages, not a widget per entry: the
        # browser draws the first page (and its question box) sooner (bench/startup.py).
        docs = engine.searcher.newest(NEWEST)
        entries = (entry_html(lang, doc, resource_href(current, doc["id"])) for doc in docs)
        st.html(f'<div class="rc-newest">{"".join(entries)}</div>')
    with side:
        st.subheader(t(lang, "front_types"), divider="gray")
        types = [(type_label(lang, kind), n) for kind, n in facets["types"].items()]
        st.html(count_bars_html(types))
        st.subheader(t(lang, "front_contributors"), divider="gray")
        people = list(facets["contributors"].items())  # most resources first
        rest = len(people) - CONTRIBUTORS
        more = t(lang, "front_more_people", n=rest) if rest > 0 else ""
        st.html(count_bars_html(people[:CONTRIBUTORS], more))
