"""What every `recall` command shares: exit codes, usage errors, settings and sources."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from indexer.resources import ParseResult
from indexer.sources.markdown import parse_sources

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with what the user asked for: one line on stderr, exit code 2."""


def print_json(data) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def parse_or_fail(sources: Sequence[str], data_dir: Path) -> ParseResult:
    paths = [Path(s) for s in sources] or [data_dir]
    try:
        return parse_sources(paths)
    except (FileNotFoundError, NotADirectoryError, PermissionError, IsADirectoryError) as exc:
        raise UsageError(str(exc)) from exc


def add_index_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index", metavar="DIR", help="index folder (default data/index, RECALL_INDEX)"
    )


def add_allow_host_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-host",
        action="append",
        dest="allow_hosts",
        metavar="HOST[:PORT]",
        help="allow connecting to this host even on a loopback or private address "
        "(repeatable; RECALL_ALLOW_HOSTS)",
    )


def progress_wanted() -> bool:
    """Progress bars only on a terminal."""
    return sys.stderr.isatty()
