"""The "자료 추가 / Add a resource" form: a thin caller of indexer.add.add_resource, the
function `recall add` calls, with who may use it and how often.

The form is on when the app listens on loopback only (Streamlit's `server.address`; empty
means every interface). Listening elsewhere it asks for the token in RECALL_ADD_TOKEN, and
without one it is not shown. Each session may try `ADD_LIMIT` adds per `ADD_WINDOW_SECONDS`.
What the form writes goes through the list writer, which writes markdown-safe text; what
it shows of the input goes through search_ui/render.py, like every list text.
"""

from __future__ import annotations

import hmac
import math
import os
import time

import streamlit as st

from indexer.add import AddError, AddRequest, add_resource
from indexer.config import load_settings
from indexer.embed import ModelLoadError
from indexer.store import IndexProblem
from search_ui import engine as eng
from search_ui.i18n import t
from search_ui.render import esc, link
from search_ui.state import open_button

LOCAL_ADDRESSES = frozenset({"127.0.0.1", "localhost", "::1"})
TOKEN_VARIABLE = "RECALL_ADD_TOKEN"
ADD_LIMIT = 5
ADD_WINDOW_SECONDS = 60.0
FIELDS = ("add_url", "add_note", "add_name")
_ATTEMPTS = "_recall_add_attempts"  # session key: monotonic times of this session's tries
_OUTCOME = "_recall_add_outcome"  # session key: what the last try came to


def access(address: str | None, token: str | None) -> str | None:
    """How the form is offered: "open" on a loopback address, "token" elsewhere when a
    token is set, else None (not shown)."""
    if (address or "").strip().strip("[]") in LOCAL_ADDRESSES:
        return "open"
    return "token" if token else None


def admit(attempts: list[float], now: float) -> float:
    """Record a try at `now` and return 0, or return how many seconds until one is allowed
    (`attempts` keeps only the tries of the last window)."""
    attempts[:] = [at for at in attempts if now - at < ADD_WINDOW_SECONDS]
    if len(attempts) >= ADD_LIMIT:
        return ADD_WINDOW_SECONDS - (now - attempts[0])
    attempts.append(now)
    return 0.0


def _token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def _submit(mode: str) -> None:
    """Form callback, run before the rerun opens the engine, so that the rerun already
    serves the index that holds the new resource."""
    state = st.session_state
    wait = admit(state.setdefault(_ATTEMPTS, []), time.monotonic())
    if wait:
        state[_OUTCOME] = ("rate", math.ceil(wait))
        return
    if mode == "token" and not _token_matches(
        state.get("add_token") or "", os.environ.get(TOKEN_VARIABLE, "")
    ):
        state[_OUTCOME] = ("token", None)
        return
    note, name = (state.get(key) or "" for key in FIELDS[1:])
    request = AddRequest(state.get("add_url") or "", note if note.strip() else None, name)
    settings = load_settings(index_dir=eng.index_path())
    try:
        result = add_resource(settings, request)
    except AddError as exc:
        state[_OUTCOME] = ("refused", str(exc))
        return
    except (IndexProblem, ModelLoadError) as exc:  # written to the list, not published
        state[_OUTCOME] = ("unpublished", str(exc))
        return
    state[_OUTCOME] = ("added", result)
    state.update({key: "" for key in FIELDS})


def _detail(text: str) -> None:
    st.html(f'<div class="rc-pre">{esc(text)}</div>')


def _show_outcome(lang: str) -> None:
    kind, value = st.session_state.get(_OUTCOME) or (None, None)
    if kind == "rate":
        st.warning(t(lang, "add_rate", limit=ADD_LIMIT, seconds=value))
    elif kind == "token":
        st.error(t(lang, "add_bad_token"))
    elif kind in ("refused", "unpublished"):
        st.error(t(lang, f"add_{kind}"))
        _detail(value)
    elif kind == "added":
        st.success(t(lang, "add_done" if value.searchable else "add_not_searchable"))
        st.html(f'<div class="rc-url">{link(value.url, value.url)}</div>')
        if value.already:
            _detail(t(lang, "add_already", where=", ".join(value.already)))
        if value.searchable:
            open_button(lang, value.url, key="add_open")


def add_form(lang: str) -> None:
    """The form in the sidebar behind its switch, when this server lets its visitors add."""
    mode = access(st.get_option("server.address"), os.environ.get(TOKEN_VARIABLE))
    if mode is None:
        return
    # Drawn when its switch is on, not folded away: a folded form still loads in the
    # browser, and a first answer would wait for it (bench/startup.py).
    if not st.sidebar.toggle(t(lang, "add_title"), key="add_form_on"):
        return
    with st.sidebar.container(border=True):
        with st.form("add_form", border=False):
            st.text_input(t(lang, "add_url"), key="add_url", placeholder="https://")
            st.text_area(t(lang, "add_note"), key="add_note", height=90)
            st.text_input(t(lang, "add_name"), key="add_name")
            if mode == "token":
                st.text_input(t(lang, "add_token"), key="add_token", type="password")
            st.form_submit_button(
                t(lang, "add_submit"), on_click=_submit, args=(mode,), icon=":material/add:"
            )
        _show_outcome(lang)
