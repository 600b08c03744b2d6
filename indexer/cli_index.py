"""`recall build`, `recall stats`, `recall export`, and the servers: `recall ui` and
`recall serve`. Each command imports what it uses when it runs."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from indexer.cli_common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_allow_host_option,
    add_index_option,
    add_reading_options,
    duration,
    print_json,
    progress_wanted,
    quick_start,
    with_reading_options,
)
from indexer.config import load_settings, served_index

# ------------------------------------------------------------------------ build


def _add_build(sub) -> None:
    p = sub.add_parser("build", help="parse, fetch, embed and publish the index")
    p.add_argument(
        "sources", nargs="*", metavar="SOURCE", help="list, chat export, or folder of them"
    )
    add_index_option(p)
    p.add_argument("--offline", action="store_true", help="use the page cache only")
    p.add_argument("--model", help="sentence-transformers model name or path (RECALL_MODEL)")
    p.add_argument("--full", action="store_true", help="re-embed everything")
    p.add_argument("--cache", metavar="DIR", help="page cache folder (RECALL_CACHE)")
    p.add_argument("--import-warc", metavar="FILE", help="seed the page cache from a WARC file")
    add_allow_host_option(p)
    p.add_argument("--json", action="store_true", help="print the build report as JSON")
    add_reading_options(p)
    p.set_defaults(func=cmd_build)


def _build_inputs(args):
    """Settings and sources of `recall build` and `recall check-links`, which publish alike."""
    settings = load_settings(
        data_dir=args.data,
        index_dir=args.index,
        cache_dir=args.cache,
        model=getattr(args, "model", None),
        allow_hosts=tuple(args.allow_hosts) if args.allow_hosts else None,
    )
    settings = with_reading_options(settings, args)
    sources = [Path(s) for s in args.sources] or [settings.data_dir]
    for source in sources:
        if not source.exists():
            raise UsageError(f"no such file or folder: {source}")
        if not (source.is_file() or source.is_dir()):
            raise UsageError(f"not a file or a folder: {source}")
    return settings, sources


def cmd_build(args) -> int:
    from indexer.build import Builder
    from indexer.morphology import start_helper

    settings, sources = _build_inputs(args)
    if args.import_warc and not Path(args.import_warc).is_file():
        raise UsageError(f"no such WARC file: {args.import_warc}")
    # Kiwi loads in its helper while the lists are parsed and the passages embedded, instead
    # of after them (paired, a cold build of the dev corpus took 0.89× as long).
    start_helper()

    def build():
        return Builder(settings).build(
            sources,
            offline=args.offline,
            full=args.full,
            progress=progress_wanted(),
            import_warc=Path(args.import_warc) if args.import_warc else None,
        )

    return _publish_and_print(args, build, _print_built)


def _print_built(report) -> None:
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


# ------------------------------------------------------------------ check-links


def _add_check_links(sub) -> None:
    p = sub.add_parser(
        "check-links", help="revalidate every link, publish its health, print what changed"
    )
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="the lists the index is built from")
    add_index_option(p)
    p.add_argument("--cache", metavar="DIR", help="page cache folder (RECALL_CACHE)")
    p.add_argument(
        "--since-last",
        type=duration,
        metavar="DURATION",
        help="only links not checked within this long (30m, 12h, 7d); by default every link",
    )
    add_allow_host_option(p)
    p.add_argument("--json", action="store_true", help="print the changes as JSON (for a bot)")
    add_reading_options(p)
    p.set_defaults(func=cmd_check_links)


def _publish_and_print(args, work, print_text) -> int:
    """Run work(), which publishes an index, and print its report (JSON with --json); a
    model or index problem is one line on stderr (exit 1), sources with nothing to index
    too (exit 2)."""
    from indexer.build import NothingToIndex
    from indexer.embed import ModelLoadError
    from indexer.store import IndexProblem

    try:
        report = work()
    except NothingToIndex as exc:
        print(f"recall: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ModelLoadError, IndexProblem) as exc:
        print(f"recall: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if args.json:
        print_json(report.to_dict())
    else:
        print_text(report)
    return EXIT_OK


def cmd_check_links(args) -> int:
    from indexer.checklinks import check_links

    settings, sources = _build_inputs(args)
    return _publish_and_print(
        args,
        lambda: check_links(
            settings, sources, since_last=args.since_last, progress=progress_wanted()
        ),
        _print_check,
    )


def _print_check(report) -> None:
    print(f"checked:    {report.checked} links ({report.skipped} not checked this time)")
    print("health:     " + ", ".join(f"{k} {v}" for k, v in report.health.items()))
    for kind, items in report.changes.items():
        print(f"{kind.replace('_', ' ')}: {len(items)}")
        for item in items:
            seen = f", last seen alive {item['last_ok_at'][:10]}" if item["last_ok_at"] else ""
            print(f"  {item['url']}  ({item['fetch_status']}{seen})")
    print(f"index:      published {report.build_id}")


# ------------------------------------------------------------------------ add


def _add_add(sub) -> None:
    p = sub.add_parser("add", help="add a resource to a list, fetch it and publish the index")
    p.add_argument("url", metavar="URL", help="the http(s) address of the resource")
    p.add_argument("--note", help="what you want to say about it")
    p.add_argument("--by", metavar="NAME", help="who shares it")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="when (default today)")
    p.add_argument("--title", help="its title (default: the page's own)")
    p.add_argument("--list", metavar="FILE", help="the list to append to (default data/added.md)")
    add_index_option(p)
    p.add_argument("--cache", metavar="DIR", help="page cache folder (RECALL_CACHE)")
    p.add_argument("--offline", action="store_true", help="do not fetch the page now")
    add_allow_host_option(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_add)


def cmd_add(args) -> int:
    from indexer.add import AddError, AddRequest, add_resource

    settings = load_settings(
        data_dir=args.data,
        index_dir=args.index,
        cache_dir=args.cache,
        allow_hosts=tuple(args.allow_hosts) if args.allow_hosts else None,
    )
    request = AddRequest(args.url, args.note, args.by, args.date, args.title or "")
    quick_start(kiwi=True)  # Kiwi loads while the page is fetched and the lists are parsed

    def add():
        try:
            return add_resource(
                settings, request, args.list, offline=args.offline, fetch_in_child=True
            )
        except AddError as exc:
            raise UsageError(str(exc)) from exc

    return _publish_and_print(args, add, _print_added)


def _print_added(result) -> None:
    print(f"added:      {result.url}  to {result.list_file}:{result.line}")
    if result.already:
        print(f"already in: {', '.join(result.already)} (this is another mention)")
    print(f"page:       {result.fetch_status}  link health: {result.link_health}")
    state = "searchable" if result.searchable else "NOT in the index"
    print(f"index:      published {result.build_id}, {state}")


# ------------------------------------------------------------------------ stats


def _open_metadata(args):
    """The served index's manifest and records: no vectors, no keyword index, no model."""
    from indexer.store import IndexMetadata, IndexProblem

    settings = load_settings(index_dir=args.index)
    try:
        return IndexMetadata(settings.index_dir)
    except IndexProblem as exc:
        raise UsageError(str(exc)) from exc


def _add_stats(sub) -> None:
    p = sub.add_parser("stats", help="what the index holds and how it was built")
    add_index_option(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)


def cmd_stats(args) -> int:
    """What the index holds; fails (after saying it) when this Recall cannot search it, so
    that `make run` rebuilds an index of an older tokenizer."""
    from indexer.export import index_stats
    from indexer.store import IndexProblem, check_tokenizer

    metadata = _open_metadata(args)
    stats = index_stats(metadata)
    if args.json:
        print_json(stats)
    else:
        _print_stats(stats)
    try:
        check_tokenizer(metadata.requested, metadata.manifest)
    except IndexProblem as exc:
        print(f"recall: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _print_stats(stats: dict) -> None:
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
    print("links:     " + ", ".join(f"{k} {v}" for k, v in stats["link_health"].items()))


# ------------------------------------------------------------------------ export


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="every resource with its mentions and link status")
    add_index_option(p)
    p.add_argument(
        "--format",
        choices=("json", "csv", "md"),
        default="json",
        help="md: a list in the sample list's shape, which recall reads back the same",
    )
    p.add_argument(
        "--group-by",
        choices=("date", "contributor", "topic"),
        help="with --format md: posts grouped by month, contributor or topic",
    )
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    from indexer.export import export_rows, rows_to_csv

    docs = _open_metadata(args).docs
    if args.format == "md":
        from indexer.listwriter import write_records

        sys.stdout.write(write_records(docs, args.group_by))
        return EXIT_OK
    rows = export_rows(docs)
    if args.format == "json":
        print_json(rows)
    else:
        sys.stdout.write(rows_to_csv(rows))
    return EXIT_OK


# ------------------------------------------------------------------------ servers


def _add_ui(sub) -> None:
    p = sub.add_parser("ui", help="start the Streamlit app")
    add_index_option(p)
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; elsewhere adding needs RECALL_ADD_TOKEN)",
    )
    p.add_argument("--port", type=_port, default=8501)
    p.set_defaults(func=cmd_ui)


def _port(text: str) -> int:
    """argparse type for --port: a TCP port number (argparse turns the error into a usage
    message)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {text!r}")
    return port


def cmd_ui(args) -> int:
    import subprocess

    app = Path(__file__).resolve().parents[1] / "search_ui" / "server.py"
    env = dict(os.environ, RECALL_INDEX=str(served_index(args.index)))
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        args.host,
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


def _add_serve(sub) -> None:
    p = sub.add_parser("serve", help="start the JSON API (OpenAPI page at /docs)")
    add_index_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8600, help="port (default 8600)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    from indexer.api import serve

    serve(served_index(args.index), args.host, args.port)
    return EXIT_OK


COMMANDS = [_add_build, _add_add, _add_check_links, _add_stats, _add_export, _add_ui, _add_serve]
