"""A resource's own page: every mention and note, companions, page text, related resources."""

from __future__ import annotations

import streamlit as st

from search_ui import engine as eng
from search_ui.cards import (
    entry_html,
    mention_html,
    resource_header_html,
    text_block_html,
    url_html,
)
from search_ui.i18n import t
from search_ui.render import esc
from search_ui.results import entry_row, related_list
from search_ui.state import close_resource

PAGE_TEXT_CHARS = 20_000


def _companions(engine: eng.Engine, lang: str, urls: list[str]) -> None:
    st.subheader(t(lang, "companions"), divider="gray")
    for url in urls:
        known = eng.doc(engine, url)
        with st.container(border=True):
            if known is None:
                st.html(url_html(url))
                continue
            entry_row(lang, entry_html(lang, known), known["id"], f"companion-{known['id']}")


def context_html(lang: str, mention: dict) -> str:
    """The chat conversation before a mention, apart from the note and labelled as others'
    words, so it never reads as what the contributor said."""
    context = mention.get("context") or ""
    if not context.strip():
        return ""
    label = " ".join(t(lang, "chat_context", time=mention.get("time") or "").split())
    return (
        f'<div class="rc-context"><div class="rc-context-label">{esc(label)}</div>'
        f'<div class="rc-pre">{esc(context)}</div></div>'
    )


def _page_text(lang: str, text: str) -> None:
    if not text:  # no "(0 characters)" box for a page with no kept text
        return
    with st.expander(t(lang, "page_text", n=f"{len(text):,}"), icon=":material/description:"):
        if len(text) > PAGE_TEXT_CHARS:
            st.caption(t(lang, "page_text_cut", shown=f"{PAGE_TEXT_CHARS:,}", n=f"{len(text):,}"))
        st.html(text_block_html(text[:PAGE_TEXT_CHARS]))


def resource_page(engine: eng.Engine, lang: str, ref: str) -> None:
    st.button(t(lang, "back"), on_click=close_resource, type="tertiary")
    record = engine.searcher.record(ref)
    if record is None:
        st.warning(t(lang, "not_found", ref=ref[:200]))
        return
    with st.container(border=True):
        st.html(resource_header_html(lang, record))
    main, side = st.columns([3, 2], gap="large")
    with main:
        st.subheader(t(lang, "mentions", n=len(record["mentions"])), divider="gray")
        for mention in record["mentions"]:
            st.html(mention_html(lang, mention))
            if mention.get("context"):
                st.html(context_html(lang, mention))
        if record.get("companions"):
            _companions(engine, lang, record["companions"])
        _page_text(lang, record.get("page_text") or "")
    with side:
        st.subheader(t(lang, "related"), divider="gray")
        related_list(engine, lang, record["id"], key=f"page-{record['id']}")
