"""Input files: which a source names, how their bytes decode, and which reader reads each."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from indexer.resources import ParseResult, SourceFile
from indexer.sources.accumulator import Accumulator
from indexer.sources.chat import read_chat
from indexer.sources.kakao import detect
from indexer.sources.markdown import parse_text
from indexer.sources.options import ReadOptions

LIST_SUFFIXES = (".md", ".markdown")  # read from a folder always
CHAT_SUFFIXES = (".txt", ".csv")  # read from a folder when their content is a chat export
# An index build (manifest.json) or a page cache (pages.sqlite) is never a source.
_NOT_SOURCE_MARKERS = ("manifest.json", "pages.sqlite")
_BINARY_SNIFF = 8192
_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")  # little- and big-endian byte order marks
_SNIFF_BYTES = 65536


def decode_source(data: bytes) -> tuple[str | None, str | None]:
    """Text of a source file and a warning when it was not clean UTF-8.

    Returns (None, reason) for binary files, which are skipped.
    """
    if not data.strip():
        return "", "empty file"
    if data.startswith(_UTF16_MARKS):  # Windows tools save "Unicode" text so
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as exc:
            return None, f"not UTF-16 after its byte order mark (byte {exc.start}); skipped"
    if b"\x00" in data[:_BINARY_SNIFF]:
        return None, "binary file (contains NUL bytes); skipped"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        position = exc.start
    for encoding in ("cp949", "euc-kr"):
        try:
            return data.decode(encoding), f"not UTF-8 (byte {position}); decoded as {encoding}"
        except UnicodeDecodeError:
            continue
    return (
        data.decode("utf-8", errors="replace"),
        f"not UTF-8 (byte {position}); undecodable bytes replaced",
    )


def _is_chat_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    if head.startswith(_UTF16_MARKS):
        return detect(head[: len(head) // 2 * 2].decode("utf-16", errors="replace")) is not None
    if b"\x00" in head[:_BINARY_SNIFF]:
        return False
    return detect(head.decode("utf-8-sig", errors="replace")) is not None


def _skipped_folder(folder: Path) -> bool:
    """Hidden folders, links (data/index), index builds and the page cache."""
    return (
        folder.name.startswith(".")
        or folder.is_symlink()
        or folder.name.endswith(".builds")
        or any((folder / marker).exists() for marker in _NOT_SOURCE_MARKERS)
    )


def _folder_files(folder: Path) -> list[Path]:
    found = []
    for root, folders, names in os.walk(folder):
        here = Path(root)
        folders[:] = sorted(name for name in folders if not _skipped_folder(here / name))
        for name in sorted(names):
            path = here / name
            if name.startswith(".") or path.is_symlink() or not path.is_file():
                continue
            suffix = path.suffix.lower()
            if suffix in LIST_SUFFIXES or (suffix in CHAT_SUFFIXES and _is_chat_file(path)):
                found.append(path)
    return found


def list_files(paths: Iterable[Path]) -> list[Path]:
    """The files a parse reads: files as given, and from folders (searched recursively) the
    markdown lists and the chat exports, never hidden files, the index or the page cache;
    a file given twice (or also inside a folder given) is read once."""
    files: dict[Path, Path] = {}  # each file once, however often it is given: resolved -> as given
    for path in paths:
        if path.is_dir():
            found = _folder_files(path)
        elif path.is_file():
            found = [path]
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
        for file in found:
            files.setdefault(file.resolve(), file)
    return list(files.values())


def parse_sources(paths: Iterable[Path], options: ReadOptions | None = None) -> ParseResult:
    """Parse every list and chat export under the given files and folders into one result."""
    options = options or ReadOptions()
    acc = Accumulator()
    lists = set()
    for path in list_files(paths):
        source = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            acc.warn(source, 0, f"unreadable: {exc.strerror or exc}")
            acc.result.files.append(SourceFile(source, "skipped"))
            continue
        text, problem = decode_source(data)
        if problem:
            acc.warn(source, 1, problem)
        chat_format = detect(text) if text else None
        if chat_format:
            acc.result.files.append(read_chat(text, source, chat_format, acc, options))
        elif text is None:
            acc.result.files.append(SourceFile(source, "skipped"))
        else:
            parse_text(text, source, acc)
            acc.result.files.append(SourceFile(source, "markdown"))
            lists.add(source)
    _count_lists(acc.result, lists)
    return acc.result


def _count_lists(result: ParseResult, lists: set[str]) -> None:
    """Links, contributors and date range of each markdown list, from what it gave."""
    stats = {file.path: file for file in result.files if file.path in lists}
    people: dict[str, set[str]] = {path: set() for path in stats}
    dates: dict[str, list[str]] = {path: [] for path in stats}
    mentions = [m for r in result.resources for m in r.mentions if m.source in stats]
    for mention in mentions:
        stats[mention.source].links += 1
    for entry in [*mentions, *(note for note in result.notes if note.source in stats)]:
        if entry.contributor:
            people[entry.source].add(entry.contributor)
        if entry.date:
            dates[entry.source].append(entry.date)
    for path, file in stats.items():
        file.members = len(people[path])
        if dates[path]:
            file.first_date, file.last_date = min(dates[path]), max(dates[path])
