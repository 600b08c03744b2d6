"""The page before the first question: newest resources, contributors, counts by type."""

from __future__ import annotations

import streamlit as st

from search_ui import engine as eng
from search_ui.cards import entry_html
from search_ui.i18n import t, type_label
from search_ui.render import one_line
from search_ui.results import entry_row

NEWEST = 8


def front_page(engine: eng.Engine, lang: str) -> None:
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
        for doc in engine.searcher.newest(NEWEST):
            with st.container(border=True):
                entry_row(lang, entry_html(lang, doc), doc["id"], f"newest-{doc['id']}")
    with side:
        st.subheader(t(lang, "front_types"), divider="gray")
        st.bar_chart(
            {
                t(lang, "type"): [type_label(lang, kind) for kind in facets["types"]],
                t(lang, "count"): list(facets["types"].values()),
            },
            x=t(lang, "type"),
            y=t(lang, "count"),
            horizontal=True,
            sort=False,  # facets come most frequent first
            height=240,
        )
        st.subheader(t(lang, "front_contributors"), divider="gray")
        st.dataframe(
            {
                t(lang, "name"): [one_line(name) for name in facets["contributors"]],
                t(lang, "count"): list(facets["contributors"].values()),
            },
            hide_index=True,
            width="stretch",
        )
