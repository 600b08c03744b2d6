"""`recall build`, `recall stats`, `recall export` and `recall ui`."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

from indexer.cli_common import (
    EXIT_FAILURE,
    EXIT_OK,
    UsageError,
    add_allow_host_option,
    add_index_option,
    print_json,
    progress_wanted,
)
from indexer.config import load_settings
from indexer.store import IndexProblem, IndexReader

# ------------------------------------------------------------------------ build


def _add_build(sub) -> None:
    p = sub.add_parser("build", help="parse, fetch, embed and publish the index")
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="markdown file or folder")
    add_index_option(p)
    p.add_argument("--offline", action="store_true", help="use the page cache only")
    p.add_argument("--model", help="sentence-transformers model name or path (RECALL_MODEL)")
    p.add_argument("--full", action="store_true", help="re-embed everything")
    p.add_argument("--cache", metavar="DIR", help="page cache folder (RECALL_CACHE)")
    p.add_argument("--import-warc", metavar="FILE", help="seed the page cache from a WARC file")
    add_allow_host_option(p)
    p.add_argument("--json", action="store_true", help="print the build report as JSON")
    p.set_defaults(func=cmd_build)


def cmd_build(args) -> int:
    from indexer.build import Builder
    from indexer.embed import ModelLoadError

    settings = load_settings(
        data_dir=args.data,
        index_dir=args.index,
        cache_dir=args.cache,
        model=args.model,
        allow_hosts=tuple(args.allow_hosts) if args.allow_hosts else None,
    )
    if args.import_warc and not Path(args.import_warc).is_file():
        raise UsageError(f"no such WARC file: {args.import_warc}")
    sources = [Path(s) for s in args.sources] or [settings.data_dir]
    for source in sources:
        if not source.exists():
            raise UsageError(f"no such file or folder: {source}")
    try:
        report = Builder(settings).build(
            sources,
            offline=args.offline,
            full=args.full,
            progress=progress_wanted(),
            import_warc=Path(args.import_warc) if args.import_warc else None,
        )
    except (ModelLoadError, IndexProblem) as exc:
        print(f"recall: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if args.json:
        print_json(report.to_dict())
        return EXIT_OK
    state = "unchanged (nothing to do)" if report.unchanged else f"published {report.build_id}"
    print(f"index:      {report.index}  {state}")
    print(f"resources:  {report.resources}   notes: {report.notes}   passages: {report.passages}")
    print(
        f"embedded:   {report.embedded} new, {report.reused} reused   dense: {report.dense_index}"
    )
    print("fetch:      " + ", ".join(f"{k} {v}" for k, v in report.fetch_counts.items()))
    print("seconds:    " + ", ".join(f"{k} {v}" for k, v in report.seconds.items()))
    if report.warnings:
        print(f"warnings:   {len(report.warnings)}")
        for warning in report.warnings[:50]:
            print(f"  {warning}")
    return EXIT_OK


# ------------------------------------------------------------------------ stats


def _open_reader(args) -> IndexReader:
    settings = load_settings(index_dir=args.index)
    try:
        return IndexReader(settings.index_dir)
    except IndexProblem as exc:
        raise UsageError(str(exc)) from exc


def index_stats(reader: IndexReader) -> dict:
    manifest = reader.manifest
    dead = [
        {
            "url": d["url"],
            "title": d["title"],
            "status": d.get("fetch_status"),
            "last_ok_at": d.get("last_ok_at"),
        }
        for d in reader.docs
        if d["kind"] == "resource" and d.get("fetch_status") not in ("ok", "not_modified")
    ]
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
        "unavailable": dead,
    }


def _add_stats(sub) -> None:
    p = sub.add_parser("stats", help="what the index holds and how it was built")
    add_index_option(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)


def cmd_stats(args) -> int:
    reader = _open_reader(args)
    stats = index_stats(reader)
    if args.json:
        print_json(stats)
        return EXIT_OK
    counts = stats["counts"]
    print(f"index:     {stats['index']}")
    print(f"build:     {stats['build_id']} at {stats['built_at']}")
    print(f"model:     {stats['model']} ({stats['dimension']}-d), tokenizer {stats['tokenizer']}")
    print(f"dense:     {stats['dense_index']}")
    print(
        f"counts:    {counts['resources']} resources, {counts['notes']} notes, "
        f"{counts['passages']} passages"
    )
    print("fetch:     " + ", ".join(f"{k} {v}" for k, v in stats["fetch_counts"].items()))
    print(f"size:      {stats['size_bytes'] / 1e6:.1f} MB")
    print(f"unavailable links: {len(stats['unavailable'])}")
    return EXIT_OK


# ------------------------------------------------------------------------ export

EXPORT_FIELDS = [
    "title",
    "url",
    "type",
    "contributors",
    "dates",
    "fetch_status",
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
                "last_ok_at": doc.get("last_ok_at"),
                "notes": [m["note"] for m in doc["mentions"] if m["note"]],
                "mentions": doc["mentions"],
            }
        )
    return rows


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
        status = (
            "" if row["fetch_status"] in ("ok", "not_modified") else f" — {row['fetch_status']}"
        )
        title = _markdown_text(row["title"])
        if row["url"].lower().startswith(("http://", "https://")):
            target = row["url"].replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
            entry = f"[{title}](<{target}>)"
        else:  # never make a javascript:, file: or broken URL clickable
            entry = f"{title} (`{row['url'].replace('`', '')}`, not a web link)"
        lines.append(f"* {entry} — {who} ({when}){status}")
    return "\n".join(lines) + "\n"


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="every resource with its mentions and link status")
    add_index_option(p)
    p.add_argument("--format", choices=("json", "csv", "md"), default="json")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    reader = _open_reader(args)
    rows = export_rows(reader.docs)
    if args.format == "json":
        print_json(rows)
    elif args.format == "csv":
        sys.stdout.write(rows_to_csv(rows))
    else:
        sys.stdout.write(rows_to_markdown(rows))
    return EXIT_OK


# ------------------------------------------------------------------------ ui


def _add_ui(sub) -> None:
    p = sub.add_parser("ui", help="start the Streamlit app")
    add_index_option(p)
    p.add_argument("--port", type=int, default=8501)
    p.set_defaults(func=cmd_ui)


def cmd_ui(args) -> int:
    settings = load_settings(index_dir=args.index)
    app = Path(__file__).resolve().parents[1] / "search_ui" / "app.py"
    env = dict(os.environ, RECALL_INDEX=str(settings.index_dir.resolve()))
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(args.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]
    return subprocess.call(command, env=env)


COMMANDS = [_add_build, _add_stats, _add_export, _add_ui]
