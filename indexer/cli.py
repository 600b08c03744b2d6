"""The `recall` command line: parse arguments, call the library, print, exit codes."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from indexer import cli_index, cli_query
from indexer.cli_common import (
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_allow_host_option,
    add_reading_options,
    duration,
    parse_or_fail,
    print_json,
    progress_wanted,
    with_reading_options,
)
from indexer.config import load_settings

# ------------------------------------------------------------------------ parse


def _add_parse(sub) -> None:
    p = sub.add_parser("parse", help="parse resource lists and report what they hold")
    p.add_argument(
        "sources", nargs="*", metavar="SOURCE", help="list, chat export, or folder of them"
    )
    p.add_argument("--json", action="store_true", help="print resources, notes and warnings")
    add_reading_options(p)
    p.set_defaults(func=cmd_parse)


def cmd_parse(args) -> int:
    settings = with_reading_options(load_settings(data_dir=args.data), args)
    result = parse_or_fail(args.sources, settings.data_dir, settings.reading)
    if args.json:
        print_json(result.to_dict())
        return EXIT_OK
    mentions = sum(len(r.mentions) for r in result.resources)
    invalid = sum(r.url_status != "ok" for r in result.resources)
    print(f"resources: {len(result.resources)}")
    print(f"mentions:  {mentions}")
    print(f"notes:     {len(result.notes)}")
    print(f"invalid:   {invalid}")
    print(f"files:     {len(result.files)}")
    for stats in result.files:
        print(f"  {stats}")
    print(f"warnings:  {len(result.warnings)}")
    for warning in result.warnings:
        print(f"  {warning}")
    return EXIT_OK


# ------------------------------------------------------------------------ fetch


def _add_fetch(sub) -> None:
    p = sub.add_parser("fetch", help="fetch the linked pages into the page cache")
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="markdown file or folder")
    p.add_argument("--offline", action="store_true", help="use the cache only, never the network")
    add_allow_host_option(p)
    p.add_argument(
        "--cache", metavar="DIR", help="page cache folder (default data/cache, RECALL_CACHE)"
    )
    p.add_argument(
        "--max-age",
        type=duration,
        metavar="DURATION",
        help="skip pages fetched more recently than this (30m, 12h, 7d); "
        "by default every cached page is revalidated",
    )
    p.add_argument("--import-warc", metavar="FILE", help="seed the cache from a WARC file first")
    p.add_argument(
        "--export-warc", metavar="FILE", help="write every cached response to a WARC file"
    )
    p.add_argument("--json", action="store_true", help="print each resource's fetch status")
    p.set_defaults(func=cmd_fetch)


def _fetch_row(resource, page) -> dict:
    if page is None:  # a listed URL Recall never fetches
        status, title, text, error = "invalid_url", resource.title, "", resource.invalid_reason
        http_status = final_url = last_ok_at = None
    else:
        use_page_title = resource.title_is_placeholder and page.title
        title = page.title if use_page_title else resource.title
        status, text, error = page.status, page.text, page.error
        http_status, final_url, last_ok_at = page.http_status, page.final_url, page.last_ok_at
    return {
        "id": resource.id,
        "url": resource.url,
        "status": status,
        "http_status": http_status,
        "final_url": final_url,
        "title": title,
        "text_length": len(text),
        "last_ok_at": last_ok_at,
        "error": error,
    }


def cmd_fetch(args) -> int:
    from indexer.build import fetch_pages

    allow_hosts = tuple(args.allow_hosts) if args.allow_hosts else None
    settings = load_settings(data_dir=args.data, cache_dir=args.cache, allow_hosts=allow_hosts)
    if args.import_warc and not Path(args.import_warc).is_file():
        raise UsageError(f"no such WARC file: {args.import_warc}")
    result = parse_or_fail(args.sources, settings.data_dir)
    outcome = fetch_pages(
        result.resources,
        settings,
        offline=args.offline,
        progress=progress_wanted(),
        max_age_seconds=args.max_age,
        import_warc=Path(args.import_warc) if args.import_warc else None,
        export_warc=Path(args.export_warc) if args.export_warc else None,
    )
    pages = outcome.pages
    report: dict = {}
    if outcome.imported is not None:
        report["import"] = outcome.imported
    if args.export_warc:
        report["export"] = {"file": args.export_warc, "responses": outcome.stats.pop("exported")}
    rows = [
        _fetch_row(r, pages.get(r.url) if r.url_status == "ok" else None) for r in result.resources
    ]
    counts = dict(sorted(Counter(row["status"] for row in rows).items()))
    stats = outcome.stats
    if args.json:
        print_json({"counts": counts, "stats": stats, **report, "resources": rows})
        return EXIT_OK
    print(f"resources: {len(rows)}  (from cache without network: {stats['from_cache']})")
    for status, count in counts.items():
        print(f"  {status:<20} {count}")
    print(
        f"requests: {stats['requests']} (conditional {stats['conditional']}), "
        f"robots.txt: {stats['robots_requests']}, retries: {stats['retries']}"
    )
    if "import" in report:
        imported = report["import"]
        print(
            f"WARC import: {imported['imported']} pages from {imported['records']} records, "
            f"{imported['unlisted']} for unlisted URLs, {imported['older']} older than the cache"
        )
        if imported["stopped_at"]:
            print(f"  the archive is damaged; reading stopped at {imported['stopped_at']}")
    if "export" in report:
        print(f"WARC export: {report['export']['responses']} responses to {args.export_warc}")
    return EXIT_OK


# -------------------------------------------------------------------- commands
# Each command module registers its subparser here; keep this list in the order
# the help should show them.
_COMMANDS = [_add_parse, _add_fetch, *cli_index.COMMANDS, *cli_query.COMMANDS]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recall", description="Search what a community has shared."
    )
    parser.add_argument(
        "--data", default=None, help="folder of resource lists (default data/, RECALL_DATA)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in _COMMANDS:
        add_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the message
        return EXIT_USAGE if exc.code else EXIT_OK
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"recall: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into head and the like
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print("recall: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
