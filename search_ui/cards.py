"""HTML fragments for results, related resources and resource pages, built with render.py."""

from __future__ import annotations

import html

from indexer.linkhealth import DeadRule, link_health
from search_ui.i18n import t, type_label, why_text
from search_ui.render import anchor, badge, esc, excerpt, highlight, link, one_line, safe_href

NOTE_CHARS = 220
_NO_PROOF = DeadRule()


def health(doc: dict) -> str:
    """The link health the index recorded; an index built before link health was recorded
    gets it from the fetch status alone, which never makes a link dead."""
    return doc.get("link_health") or link_health(doc.get("fetch_status"), None, _NO_PROOF)


def status_badge(lang: str, doc: dict) -> str:
    """A badge only for a dead link (with when it was last seen alive); a quiet word for a
    link not checked yet or not a web address; nothing otherwise."""
    state = health(doc)
    if state == "dead":
        seen = doc.get("last_ok_at")
        when = t(lang, "last_seen", date=seen[:10]) if seen else t(lang, "never_seen")
        return badge(f"{t(lang, 'dead_link')} · {when}", "dead")
    if state == "unchecked":
        return f'<span class="rc-quiet">{esc(t(lang, "not_checked"))}</span>'
    if state == "unfetchable":
        return f'<span class="rc-quiet">{esc(t(lang, "invalid_link"))}</span>'
    return ""


def title_html(doc: dict, terms: list[str] = (), css: str = "rc-title") -> str:
    """The title, highlighted, linking to the original URL in a new tab when it is http(s)."""
    title = one_line(doc.get("title")) or one_line(doc.get("url"))
    return f'<div class="{css}">{anchor(highlight(title, terms), doc.get("url"))}</div>'


def _dates(dates: list[str]) -> str:
    unique = list(dict.fromkeys(d for d in dates if d))
    shown = ", ".join(unique[:3])
    return shown + (f" +{len(unique) - 3}" if len(unique) > 3 else "")


def meta_html(lang: str, doc: dict) -> str:
    """Type badge, domain, contributors, dates and link status on one line."""
    parts = [badge(type_label(lang, doc.get("type") or "other"), f"type-{doc.get('type')}")]
    if doc.get("domain"):
        parts.append(f'<span class="rc-domain">{esc(doc["domain"])}</span>')
    people = ", ".join(one_line(p) for p in doc.get("contributors") or [])
    if people:
        parts.append(f'<span class="rc-people">{esc(people)}</span>')
    when = _dates(doc.get("dates") or [])
    if when:
        parts.append(f'<span class="rc-dates">{esc(when)}</span>')
    marker = status_badge(lang, doc)
    if marker:
        parts.append(marker)
    if health(doc) == "unfetchable" and doc.get("url"):
        parts.append(f'<span class="rc-url">{esc(one_line(doc["url"]))}</span>')
    return f'<div class="rc-meta">{"".join(parts)}</div>'


def first_note(doc: dict) -> str:
    return next((m["note"] for m in doc.get("mentions") or [] if m.get("note")), "")


def _is_profile(snippet: str, title: str) -> bool:
    """The engine's fallback passage is the list entry itself: title, type, domain, people."""
    return bool(title) and one_line(snippet).startswith(one_line(title))


def result_card_html(lang: str, hit: dict, doc: dict) -> str:
    """One search result: title, meta, note excerpt, best passage highlighted, why."""
    terms = hit.get("terms") or []
    parts = [title_html(hit, terms), meta_html(lang, hit)]
    if hit.get("filed_under"):  # where the lists file it: a bare link's only context
        parts.append(
            f'<div class="rc-filed"><span class="rc-label">{esc(t(lang, "filed_under"))}</span> '
            f"{esc(' · '.join(one_line(h) for h in hit['filed_under']))}</div>"
        )
    note = excerpt(first_note(doc), NOTE_CHARS)
    snippet = hit.get("snippet") or ""
    passage_shown = snippet and not _is_profile(snippet, hit.get("title", ""))
    if note and not (passage_shown and note[:40] in one_line(snippet)):
        parts.append(
            f'<div class="rc-note"><span class="rc-label">{esc(t(lang, "note"))}</span> '
            f"{highlight(note, terms)}</div>"
        )
    if passage_shown:
        parts.append(
            f'<div class="rc-passage"><span class="rc-label">{esc(t(lang, "passage"))}</span> '
            f"{highlight(one_line(snippet), terms)}</div>"
        )
    if hit.get("why"):
        parts.append(
            f'<div class="rc-why"><span class="rc-label">{esc(t(lang, "why"))}</span> '
            f"{esc(why_text(lang, hit['why']))}</div>"
        )
    if hit.get("also_at"):  # the same page under other addresses, folded into this card
        others = " · ".join(link(url, url) for url in hit["also_at"])
        parts.append(
            f'<div class="rc-why"><span class="rc-label">{esc(t(lang, "also_at"))}</span> '
            f"{others}</div>"
        )
    return f'<div class="rc-card">{"".join(parts)}</div>'


def related_html(lang: str, hit: dict) -> str:
    """A compact related resource: title, meta and why it is related."""
    return (
        f'<div class="rc-related">{title_html(hit, css="rc-subtitle")}{meta_html(lang, hit)}'
        f'<div class="rc-why">{esc(why_text(lang, hit.get("why") or ""))}</div></div>'
    )


def entry_html(lang: str, doc: dict, page_href: str | None = None) -> str:
    """A compact entry (front page, companions): title, meta and the start of its note, and
    a link to its page in this app when `page_href` (built by search_ui/state.py) is given."""
    note = excerpt(first_note(doc), 140)
    body = f'<div class="rc-note">{esc(note)}</div>' if note else ""
    title = title_html(doc, css="rc-subtitle")
    more = (
        f'<a class="rc-open" href="{html.escape(page_href, quote=True)}">'
        f"{esc(t(lang, 'details'))}</a>"
        if page_href
        else ""
    )
    return f'<div class="rc-related">{title}{meta_html(lang, doc)}{body}{more}</div>'


def mention_html(lang: str, mention: dict) -> str:
    """One mention of a resource: who, when, under which heading, what they wrote, where."""
    head = " · ".join(one_line(v) for v in (mention.get("contributor"), mention.get("date")) if v)
    section = one_line(mention.get("section"))
    where = t(
        lang, "mention_at", source=one_line(mention.get("source")), line=mention.get("line") or "?"
    )
    note = clean_note(mention.get("note"))
    return (
        f'<div class="rc-mention"><div class="rc-meta"><strong>{esc(head)}</strong>'
        + (f'<span class="rc-section">{esc(section)}</span>' if section else "")
        + f'<span class="rc-where">{esc(where)}</span></div>'
        + (f'<div class="rc-pre">{esc(note)}</div>' if note else "")
        + "</div>"
    )


def clean_note(text: object) -> str:
    """A multi-line text with runs of blank lines collapsed."""
    lines = [one_line(line) for line in str(text or "").splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()


def url_html(url: str) -> str:
    """A bare URL: a link when it is http(s), inert text otherwise."""
    return f'<div class="rc-related">{link(url, url, "rc-url")}</div>'


def text_block_html(text: str) -> str:
    """A long text (extracted page text) in a scrollable, pre-wrapped block."""
    return f'<div class="rc-pre rc-scroll">{esc(text)}</div>'


def resource_header_html(lang: str, doc: dict) -> str:
    """The top of a resource page: title, meta, URL and the page's own description."""
    parts = [title_html(doc, css="rc-page-title"), meta_html(lang, doc)]
    if safe_href(doc.get("url")):
        parts.append(f'<div class="rc-url">{esc(doc["url"])}</div>')
    if doc.get("description"):
        parts.append(
            f'<div class="rc-note"><span class="rc-label">{esc(t(lang, "description"))}</span> '
            f"{esc(one_line(doc['description']))}</div>"
        )
    return "".join(parts)


def definitions_html(pairs: list[tuple[str, object]]) -> str:
    """A two-column list of labels and values, all escaped."""
    rows = "".join(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>" for label, value in pairs)
    return f'<dl class="rc-defs">{rows}</dl>'


def count_bars_html(rows: list[tuple[str, int]], more: str = "") -> str:
    """Labels with their counts as bars scaled to the largest, in the given order; `more`
    (already worded) closes the list. Plain HTML: the front page loads no chart library."""
    top = max((count for _, count in rows), default=0) or 1
    bars = "".join(
        f'<div class="rc-bar-label">{esc(one_line(label))}</div>'
        f'<div class="rc-bar"><span style="width:{100 * count / top:.0f}%"></span></div>'
        f'<div class="rc-bar-count">{count}</div>'
        for label, count in rows
    )
    tail = f'<div class="rc-quiet">{esc(more)}</div>' if more else ""
    return f'<div class="rc-bars">{bars}</div>{tail}'
