"""What every `recall` command shares: exit codes, usage errors, settings and sources."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.hits import BIDI, CONTROL

if TYPE_CHECKING:
    from indexer.config import Settings
    from indexer.resources import ParseResult
    from indexer.sources.options import ReadOptions

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with what the user asked for: one line on stderr, exit code 2."""


def terminal_text(text: str) -> str:
    """`text` a list wrote, safe to print on a terminal: its controls (an ANSI escape starts
    with ESC) read as spaces and its bidirectional controls go, so that it can neither
    colour nor reorder the screen."""
    return CONTROL.sub(" ", BIDI.sub("", text))


def print_json(data) -> None:
    # One write: json.dump writes every token on its own (120k writes for an export).
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def parse_or_fail(
    sources: Sequence[str], data_dir: Path, options: ReadOptions | None = None
) -> ParseResult:
    from indexer.sources.files import parse_sources

    paths = [Path(s) for s in sources] or [data_dir]
    try:
        return parse_sources(paths, options)
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


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    """What a chat export gives up: contacts, members, names (`recall parse` and `build`)."""
    group = parser.add_argument_group("chat exports")
    group.add_argument(
        "--keep-contacts",
        action="store_true",
        help="keep e-mail addresses and phone numbers in notes and context (masked by default)",
    )
    group.add_argument(
        "--exclude-sender",
        action="append",
        dest="exclude_senders",
        default=[],
        metavar="NAME",
        help="drop every message of this member before anything is read (repeatable)",
    )
    group.add_argument(
        "--pseudonymize",
        action="store_true",
        help="replace members' names with stable pseudonyms",
    )
    group.add_argument(
        "--context-minutes",
        type=float,
        metavar="N",
        help="keep the conversation this many minutes before a link as its context "
        "(default 10, RECALL_CHAT_CONTEXT_MINUTES)",
    )


def with_reading_options(settings: Settings, args: argparse.Namespace) -> Settings:
    """Settings with the chat-export flags of `add_reading_options` applied."""
    reading = replace(
        settings.reading,
        keep_contacts=args.keep_contacts,
        exclude_senders=tuple(args.exclude_senders),
        pseudonymize=args.pseudonymize,
    )
    if args.context_minutes is not None:
        reading = replace(reading, context_minutes=args.context_minutes)
    return replace(settings, reading=reading)


def progress_wanted() -> bool:
    """Progress bars only on a terminal."""
    return sys.stderr.isatty()


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration(text: str) -> float:
    """argparse type for --max-age and --since-last: 90s, 30m, 12h, 7d, 2w (a bare number
    is seconds)."""
    value = text.strip().lower()
    unit = value[-1:] if value[-1:] in _DURATION_UNITS else "s"
    number = value[:-1] if value[-1:] in _DURATION_UNITS else value
    try:
        seconds = float(number) * _DURATION_UNITS[unit]
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 30m, 12h or 7d)")
    return seconds


def quick_start(kiwi: bool) -> None:
    """Before a short-lived command loads numpy: one BLAS thread (more would only spin on
    the other core), and, when the command will analyse Korean, Kiwi loading on that core
    meanwhile (indexer.morphology's helper)."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    if kiwi:
        from indexer.morphology import start_helper

        start_helper()
