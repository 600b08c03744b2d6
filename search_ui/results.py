"""The results of a question: cards with related resources, more results, and export."""

from __future__ import annotations

import streamlit as st

from indexer.export import hit_rows, rows_to_csv, rows_to_markdown
from indexer.hits import Hit, SearchResponse
from search_ui import engine as eng
from search_ui.cards import health, related_html, result_card_html
from search_ui.i18n import t
from search_ui.state import UIState, open_button

PAGE_SIZE = 10
_SHOWN = "_recall_shown"  # session key: (search signature, number of results shown)


def _limit(signature: tuple) -> int:
    shown = st.session_state.get(_SHOWN)
    return shown[1] if shown and shown[0] == signature else PAGE_SIZE


def _show_more(signature: tuple, k: int) -> None:
    st.session_state[_SHOWN] = (signature, k + PAGE_SIZE)


def entry_row(lang: str, fragment: str, ref: str, key: str) -> None:
    """A compact entry (HTML from cards.py) with a button to its resource page beside it."""
    with st.container(horizontal=True, vertical_alignment="center", gap="small", wrap=False):
        st.html(fragment, width="stretch")
        open_button(lang, ref, key)


def related_list(engine: eng.Engine, lang: str, ref: str, key: str) -> None:
    """Related resources with why they are related, each with a button to its page."""
    hits = eng.related(engine, engine.build_id, ref)
    if not hits:
        st.caption(t(lang, "no_related"))
    for hit in hits:
        entry_row(lang, related_html(lang, hit.to_dict()), hit.id, f"{key}-open-{hit.id}")


def _toggle(key: str) -> None:
    st.session_state[key] = not st.session_state.get(key, False)


def _card(engine: eng.Engine, lang: str, hit: Hit) -> None:
    doc = eng.doc(engine, hit.id) or {}
    fields = hit.to_dict()
    shown = f"related-{hit.id}"  # session key: is this card's related list open
    with st.container(border=True):
        st.html(result_card_html(lang, fields, doc))
        dead = health(fields) == "dead"
        with st.container(horizontal=True, gap="small"):
            open_button(
                lang,
                hit.id,
                f"open-{hit.id}",
                "kept_text" if dead and doc.get("page_chars") else "details",
            )
            st.button(
                t(lang, "related"),
                key=f"toggle-{hit.id}",
                on_click=_toggle,
                args=(shown,),
                type="tertiary",
                icon=":material/expand_less:"
                if st.session_state.get(shown)
                else ":material/expand_more:",
            )
        if st.session_state.get(shown):
            related_list(engine, lang, hit.id, key=shown)


def _export(engine: eng.Engine, lang: str, hits: list[Hit]) -> None:
    """Markdown and CSV of the results, made when asked for: a download button's file on
    its click, the markdown to copy behind a toggle (the first answer waits for neither)."""
    ids = [hit.id for hit in hits]

    def rows() -> list[dict]:
        return hit_rows(engine.searcher.reader, ids)  # as the API exports

    buttons = st.container(horizontal=True, gap="small")
    buttons.download_button(
        t(lang, "export_md"),
        lambda: rows_to_markdown(rows()),
        file_name="recall-results.md",
        mime="text/markdown",
        icon=":material/download:",
        on_click="ignore",
    )
    buttons.download_button(
        t(lang, "export_csv"),
        lambda: rows_to_csv(rows()),
        file_name="recall-results.csv",
        mime="text/csv",
        icon=":material/table:",
        on_click="ignore",
    )
    if buttons.toggle(t(lang, "export_show"), key="export_copy"):
        st.caption(t(lang, "export_copy"))
        st.code(rows_to_markdown(rows()), language="markdown", wrap_lines=True)


def results(engine: eng.Engine, state: UIState) -> None:
    lang = state.lang
    filters = state.filters()
    signature = (state.query, filters, state.mode)
    k = _limit(signature)
    with st.spinner(t(lang, "searching")):
        response = eng.search(engine, engine.build_id, state.query, k, filters, state.mode)
    if response.truncated:
        st.warning(t(lang, "truncated"))
    if not response.results:
        st.info(t(lang, "no_results_filters" if filters.active() else "no_results"))
        _say_absent_terms(lang, response)
        return
    st.caption(t(lang, "results_count", n=len(response.results), ms=response.took_ms))
    close = [hit for hit in response.results if not hit.weak]
    weak = [hit for hit in response.results if hit.weak]
    if response.no_close_match:
        st.info(t(lang, "no_close_match"), icon=":material/search_off:")
    _say_absent_terms(lang, response)
    for hit in close:
        _card(engine, lang, hit)
    if weak:
        with st.expander(t(lang, "less_related", n=len(weak)), expanded=False):
            for hit in weak:
                _card(engine, lang, hit)
    if len(response.results) >= k:
        st.button(
            t(lang, "more"), on_click=_show_more, args=(signature, k), icon=":material/expand_more:"
        )
    st.subheader(t(lang, "export"), divider="gray")
    _export(engine, lang, response.results)


def _say_absent_terms(lang: str, response: SearchResponse) -> None:
    if response.absent_terms:
        terms = ", ".join(f"'{term}'" for term in response.absent_terms)
        st.caption(t(lang, "absent_terms", terms=terms))
