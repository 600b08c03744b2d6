"""The index status view, and the page shown when there is no usable index."""

from __future__ import annotations

import shlex
from pathlib import Path

import streamlit as st

from indexer.export import index_stats
from indexer.store import IndexMissing
from search_ui import engine as eng
from search_ui.cards import definitions_html
from search_ui.i18n import t
from search_ui.render import esc, one_line


def rebuild_command(index: Path, sources: list[str], full: bool = False) -> str:
    """The `recall build` command that rebuilds `index` from the folders of its sources."""
    folders = list(dict.fromkeys(str(Path(s).parent) for s in sources)) or ["data"]
    words = ["recall", "build", *folders, "--index", str(index)]
    if full:
        words.append("--full")
    return shlex.join(words)


def status_page(engine: eng.Engine, lang: str) -> None:
    stats = index_stats(engine.searcher.reader)
    counts = stats["counts"]
    st.subheader(t(lang, "status_title"))
    columns = st.columns(4)
    columns[0].metric(t(lang, "resources"), f"{counts['resources']:,}")
    columns[1].metric(t(lang, "notes"), f"{counts['notes']:,}")
    columns[2].metric(t(lang, "passages"), f"{counts['passages']:,}")
    columns[3].metric(t(lang, "size"), f"{stats['size_bytes'] / 1e6:.1f} MB")
    st.html(
        definitions_html(
            [
                (t(lang, "built"), stats["built_at"]),
                (t(lang, "build_id"), stats["build_id"]),
                (t(lang, "model"), f"{stats['model']} ({stats['dimension']}-d)"),
                (t(lang, "tokenizer"), stats["tokenizer"]),
                (t(lang, "dense_index"), stats["dense_index"]),
                (t(lang, "index_dir"), engine.path),
                (t(lang, "build_dir"), stats["index"]),
                (t(lang, "sources"), ", ".join(s["path"] for s in stats["sources"])),
            ]
        )
    )
    if stats["source_files"]:
        files = stats["source_files"]
        st.subheader(t(lang, "source_files"), divider="gray")
        st.dataframe(
            {
                t(lang, "source_file"): [one_line(f["path"]) for f in files],
                t(lang, "source_reader"): [f["reader"] for f in files],
                t(lang, "source_messages"): [f.get("messages") for f in files],
                t(lang, "source_links"): [f.get("links") for f in files],
                t(lang, "source_members"): [f.get("members") for f in files],
                t(lang, "source_dates"): [
                    f"{f.get('first_date') or ''} – {f.get('last_date') or ''}" for f in files
                ],
            },
            hide_index=True,
            width="stretch",
        )
    st.subheader(t(lang, "rebuild"), divider="gray")
    sources = [s["path"] for s in stats["sources"]]
    st.code(rebuild_command(engine.path, sources), language="bash")
    left, right = st.columns([1, 2], gap="large")
    with left:
        st.subheader(t(lang, "fetch_counts"), divider="gray")
        st.dataframe(
            {
                t(lang, "status"): list(stats["fetch_counts"]),
                t(lang, "count"): list(stats["fetch_counts"].values()),
            },
            hide_index=True,
            width="stretch",
        )
    with right:
        dead = stats["unavailable"]
        st.subheader(t(lang, "unavailable", n=len(dead)), divider="gray")
        st.caption(t(lang, "health_groups", **stats["link_health"]))
        if not dead:
            st.success(t(lang, "none_unavailable"))
            return
        st.dataframe(
            {
                t(lang, "title"): [one_line(d["title"]) for d in dead],
                t(lang, "url"): [one_line(d["url"]) for d in dead],
                t(lang, "status"): [d["status"] or "" for d in dead],
                t(lang, "link_health"): [d["link_health"] for d in dead],
                t(lang, "last_seen_column"): [(d["last_ok_at"] or "")[:10] for d in dead],
            },
            hide_index=True,
            width="stretch",
        )


def no_index_page(lang: str, path: Path, problem: Exception) -> None:
    """What to do when the index is missing or unusable, instead of a traceback."""
    missing = isinstance(problem, IndexMissing)
    st.header(t(lang, "no_index_title" if missing else "index_problem_title"))
    if missing:
        st.write(t(lang, "no_index_body"))
    else:
        st.error(str(problem))
    st.code(rebuild_command(path, [], full=not missing), language="bash")
    st.html(f'<div class="rc-why">{esc(t(lang, "index_location", path=str(path)))}</div>')
