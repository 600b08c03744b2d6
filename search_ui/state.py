"""What the page shows, and its two homes: the URL's query parameters and the widgets.

The URL holds the query and every filter, so a search shared as a link opens to the same
results (`?q=LSTM&contributor=이상훈&type=paper`). On a session's first run, and whenever
the URL changes from outside, the URL seeds the widgets; afterwards the widgets are the
truth and the URL is rewritten from them at the end of each run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import streamlit as st

from indexer.hits import MODES, Filters
from search_ui.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

VIEWS = ("search", "status")
MAX_QUERY_CHARS = 2000
_LAST_URL = "_recall_last_url"  # session key: the parameters this app last wrote


@dataclass(frozen=True)
class UIState:
    query: str = ""
    contributors: tuple[str, ...] = ()
    since: str | None = None  # ISO date
    until: str | None = None
    types: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    mode: str = "hybrid"
    lang: str = DEFAULT_LANGUAGE
    view: str = "search"
    resource: str | None = None  # id of the resource whose page is shown

    def filters(self) -> Filters:
        return Filters(
            contributors=self.contributors,
            since=self.since,
            until=self.until,
            domains=self.domains,
            types=self.types,
        )


def _iso_date(value: str | None) -> str | None:
    try:
        return dt.date.fromisoformat(value).isoformat() if value else None
    except ValueError:
        return None


def _one(params: Mapping[str, list[str]], name: str) -> str:
    values = params.get(name) or [""]
    return values[-1].strip()


def _many(params: Mapping[str, list[str]], name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in params.get(name) or [] if v.strip()))


def from_params(params: Mapping[str, list[str]]) -> UIState:
    """The state a URL asks for; malformed values fall back to their defaults."""
    mode = _one(params, "mode")
    lang = _one(params, "lang")
    view = _one(params, "view")
    return UIState(
        query=_one(params, "q")[:MAX_QUERY_CHARS],
        contributors=_many(params, "contributor"),
        since=_iso_date(_one(params, "since")),
        until=_iso_date(_one(params, "until")),
        types=_many(params, "type"),
        domains=_many(params, "domain"),
        mode=mode if mode in MODES else "hybrid",
        lang=lang if lang in LANGUAGES else DEFAULT_LANGUAGE,
        view=view if view in VIEWS else "search",
        resource=_one(params, "id") or None,
    )


def to_params(state: UIState) -> dict[str, list[str]]:
    """The URL parameters for a state, leaving out everything at its default."""
    default = UIState()
    params: dict[str, list[str]] = {}
    if state.query:
        params["q"] = [state.query]
    for name, values in (
        ("contributor", state.contributors),
        ("type", state.types),
        ("domain", state.domains),
    ):
        if values:
            params[name] = list(values)
    for name, value, fallback in (
        ("since", state.since, None),
        ("until", state.until, None),
        ("mode", state.mode, default.mode),
        ("lang", state.lang, default.lang),
        ("view", state.view, default.view),
        ("id", state.resource, None),
    ):
        if value and value != fallback:
            params[name] = [value]
    return params


def resource_href(state: UIState, ref: str) -> str:
    """A relative link to resource `ref`'s page in this app, keeping the language, filters
    and mode of `state`: a new page load, whose URL seeds the view as a shared link does."""
    return "?" + urlencode(to_params(replace(state, resource=ref)), doseq=True)


def _clamp(day: str | None, first: str | None, last: str | None) -> str | None:
    if day is None or first is None or last is None:
        return None
    return min(max(day, first), last)


def restrict(state: UIState, facets: dict) -> UIState:
    """Fit a state to the index: drop filter values it does not have (a stale or
    hand-edited link) and bring dates into the span of its dates."""
    first, last = facets["first_date"], facets["last_date"]
    return replace(
        state,
        contributors=tuple(c for c in state.contributors if c in facets["contributors"]),
        types=tuple(v for v in state.types if v in facets["types"]),
        domains=tuple(v for v in state.domains if v in facets["domains"]),
        since=_clamp(state.since, first, last),
        until=_clamp(state.until, first, last),
    )


# ------------------------------------------------------------------ Streamlit glue


def url_params() -> dict[str, list[str]]:
    return {name: st.query_params.get_all(name) for name in st.query_params}


def url_changed(params: dict[str, list[str]]) -> bool:
    """True on a session's first run and when the URL was not written by this app."""
    return st.session_state.get(_LAST_URL) != params


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def seed_widgets(state: UIState) -> None:
    """Put a state into the widgets' session keys, before the widgets are drawn."""
    st.session_state.update(
        {
            "q": state.query,
            "contributor": list(state.contributors),
            "dates": bool(state.since or state.until),
            "since": _date(state.since),
            "until": _date(state.until),
            "type": list(state.types),
            "domain": list(state.domains),
            "advanced": state.mode != "hybrid",
            "mode": state.mode,
            "lang": state.lang,
            "view": state.view,
            "resource": state.resource,
        }
    )


def from_widgets() -> UIState:
    """The state the widgets (and the resource-page buttons) now hold."""
    get = st.session_state.get
    since, until = (get("since"), get("until")) if get("dates") else (None, None)
    return UIState(
        query=(get("q") or "").strip()[:MAX_QUERY_CHARS],
        contributors=tuple(get("contributor") or ()),
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        types=tuple(get("type") or ()),
        domains=tuple(get("domain") or ()),
        mode=(get("mode") or "hybrid") if get("advanced") else "hybrid",
        lang=get("lang") or DEFAULT_LANGUAGE,
        view=get("view") or "search",
        resource=get("resource"),
    )


def write_url(state: UIState) -> None:
    """Make the URL show `state` (only if it does not already)."""
    params = to_params(state)
    if url_params() != params:
        st.query_params.from_dict(params)
    st.session_state[_LAST_URL] = params


def show_resource(ref: str) -> None:
    """Button callback: open a resource's page."""
    st.session_state["resource"] = ref
    st.session_state["view"] = "search"


def open_button(lang: str, ref: str, key: str, label: str = "details") -> None:
    """A quiet button that opens the page of resource `ref`."""
    st.button(
        t(lang, label),
        key=key,
        on_click=show_resource,
        args=(ref,),
        type="tertiary",
        icon=":material/article:",
    )


def close_resource() -> None:
    st.session_state["resource"] = None


def new_query() -> None:
    """Search box callback: a new question leaves the resource and status pages."""
    close_resource()
    st.session_state["view"] = "search"
