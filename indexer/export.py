"""What the front ends hand out about an index: export rows as JSON, CSV or the markdown
list pasted back into the chat, and the index's stats. Shared by the CLI, the app and the
JSON API; imports no model and no search code."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable

from indexer.linkhealth import HEALTHS
from indexer.store import IndexMetadata

EXPORT_FIELDS = [
    "title",
    "url",
    "type",
    "contributors",
    "dates",
    "fetch_status",
    "link_health",
    "last_ok_at",
    "notes",
]


def export_rows(docs: list[dict]) -> list[dict]:
    rows = []
    for doc in docs:
        if doc["kind"] != "resource":
            continue
        rows.append(
            {
                "title": doc["title"],
                "url": doc["url"],
                "type": doc["type"],
                "contributors": doc["contributors"],
                "dates": doc["dates"],
                "fetch_status": doc.get("fetch_status"),
                "link_health": doc.get("link_health"),
                "last_ok_at": doc.get("last_ok_at"),
                "notes": [m["note"] for m in doc["mentions"] if m["note"]],
                "mentions": doc["mentions"],
            }
        )
    return rows


def hit_rows(reader: IndexMetadata, ids: Iterable[str]) -> list[dict]:
    """Export rows of the resources with these ids, in their order (notes have no row):
    search results as the app and the API export them."""
    return export_rows([reader.docs[reader.position[i]] for i in ids if i in reader.position])


def rows_to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    for row in rows:
        writer.writerow(
            [
                "; ".join(v) if isinstance(v, list) else ("" if v is None else v)
                for v in (row[name] for name in EXPORT_FIELDS)
            ]
        )
    return buffer.getvalue()


def _markdown_text(text: str) -> str:
    """Text safe inside a markdown link label: brackets and newlines cannot break out.

    Backslashes, backticks and `<` are escaped too: a trailing backslash would escape the
    closing bracket, and code spans, autolinks and HTML bind tighter than a link label.
    """
    text = " ".join(str(text).split()).replace("[", "(").replace("]", ")")
    return re.sub(r"([\\`<])", r"\\\1", text)


def rows_to_markdown(rows: list[dict]) -> str:
    lines = []
    for row in rows:
        who = ", ".join(row["contributors"]) or "?"
        when = ", ".join(row["dates"]) or "?"
        status = " — dead link" if row.get("link_health") == "dead" else ""
        title = _markdown_text(row["title"])
        if row["url"].lower().startswith(("http://", "https://")):
            target = row["url"].replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
            entry = f"[{title}](<{target}>)"
        else:  # never make a javascript:, file: or broken URL clickable
            entry = f"{title} (`{row['url'].replace('`', '')}`, not a web link)"
        lines.append(f"* {entry} — {who} ({when}){status}")
    return "\n".join(lines) + "\n"


def index_stats(reader: IndexMetadata) -> dict:
    manifest = reader.manifest
    resources = [d for d in reader.docs if d["kind"] == "resource"]
    health = Counter(d.get("link_health") or "unchecked" for d in resources)
    # every link not known to be alive, dead first
    dead = sorted(
        (
            {
                "url": d["url"],
                "title": d["title"],
                "status": d.get("fetch_status"),
                "link_health": d.get("link_health") or "unchecked",
                "last_ok_at": d.get("last_ok_at"),
            }
            for d in resources
            if d.get("link_health") != "ok"
        ),
        key=lambda item: HEALTHS.index(item["link_health"]),
    )
    return {
        "index": str(reader.path),
        "build_id": reader.build_id,
        "built_at": manifest["built_at"],
        "model": manifest["model"],
        "dimension": manifest["dimension"],
        "tokenizer": manifest["tokenizer"],
        "dense_index": manifest["dense_index"],
        "counts": manifest["counts"],
        "fetch_counts": manifest["fetch_counts"],
        "size_bytes": reader.size_on_disk(),
        "sources": manifest["sources"],
        # per list or chat export: reader, messages, links, members, date range
        "source_files": manifest.get("source_files", []),
        "link_health": {name: health[name] for name in HEALTHS},
        "unavailable": dead,
    }
