"""`recall add` and the app's add form: one resource appended to a list in the sample
list's own shape (under a lock, through a temporary file and a rename), its page fetched,
and an index published in which only the new passages are embedded."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from indexer.config import Settings
from indexer.listwriter import Entry, EntryLink, write_entry
from indexer.resources import duplicate_key, normalize_url, url_problem
from indexer.sources.markdown import says_something

DEFAULT_LIST = "added.md"
PUBLISH_WAIT_SECONDS = 600.0  # behind other adds' and builds' publishing
# A page fetch ends within the fetch limits' timeouts; a child past this is stuck.
FETCH_CHILD_SECONDS = 600.0


class AddError(ValueError):
    """Input that cannot be added: nothing was written."""


@dataclass
class AddRequest:
    url: str
    note: str | None = None  # None: not given; given, it must say something
    by: str | None = None
    date: str | None = None  # YYYY-MM-DD, today when None
    title: str = ""


@dataclass
class AddResult:
    url: str  # normalised
    list_file: str
    line: int  # of the new section's heading
    already: list[str] = field(default_factory=list)  # file:line of earlier mentions
    fetch_status: str | None = None
    link_health: str | None = None
    build_id: str = ""
    searchable: bool = False
    seconds: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def entry_for(request: AddRequest, today: date | None = None) -> Entry:
    """The list entry of a request, or AddError saying what is wrong with it."""
    url = (request.url or "").strip()
    problem = url_problem(url)
    if problem is not None:
        raise AddError(f"not a web address: {url!r} ({problem})")
    if request.note is not None and not says_something(request.note):
        raise AddError(
            "the note says nothing (no letter, digit or symbol): say something about the "
            "resource, or leave --note out"
        )
    today = today or date.today()
    when = request.date or today.isoformat()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", when):
        raise AddError(f"not a date: {when!r} (use YYYY-MM-DD)")
    try:
        day = date.fromisoformat(when)
    except ValueError as exc:
        raise AddError(f"not a date: {when!r} ({exc})") from exc
    # A list's headings hold the years 1900-2099; a day after tomorrow (anywhere on earth
    # it is today at most) has not come yet.
    if day.year < 1900 or day > today + timedelta(days=1):
        raise AddError(f"not a date it was shared on: {when} (today is {today.isoformat()})")
    link = EntryLink(url, _one_line(request.title))
    return Entry(_one_line(request.by) or None, when, (request.note or "").strip(), [link])


def list_path(settings: Settings, list_file: str | Path | None) -> Path:
    """The list to append to (default data/added.md), or AddError when it cannot be one."""
    path = Path(list_file) if list_file else settings.data_dir / DEFAULT_LIST
    if path.suffix.lower() != ".md":
        raise AddError(f"{path}: the list must be a markdown file (.md)")
    if path.is_dir():
        raise AddError(f"{path} is a folder, not a list file")
    if not path.parent.is_dir():
        raise AddError(f"{path}: no such folder {path.parent}")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise AddError(f"{path} is not writable")
    return path


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on a list, held by every writer (CLI, app, other processes)."""
    lock = path.with_name(f".{path.name}.lock")  # hidden: never read as a list
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _earlier_mentions(text: str, source: str, url: str) -> list[str]:
    from indexer.sources.markdown import parse_text

    page = duplicate_key(url)  # youtu.be/x is watch?v=x listed before
    found = parse_text(text, source).resources
    return [
        f"{m.source}:{m.line}" for r in found if duplicate_key(r.url) == page for m in r.mentions
    ]


def append_entry(path: Path, entry: Entry) -> tuple[range, list[str]]:
    """Append a post to a list atomically; returns the lines of its section and where the
    list already mentioned its first link."""
    section = write_entry(entry)
    url = normalize_url(entry.links[0].url)
    with _locked(path):
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        already = _earlier_mentions(old, str(path), url) if old.strip() else []
        head = old.rstrip("\n") + "\n\n" if old.strip() else ""
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with temporary.open("w", encoding="utf-8") as out:
                out.write(head + section)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise AddError(f"{path}: cannot write the list ({exc.strerror or exc})") from exc
    first = head.count("\n") + 1
    return range(first, first + section.count("\n")), already


def _served_records(settings: Settings, url: str) -> list[dict]:
    """The served records of the page, under this URL or another of it (youtu.be/x is
    watch?v=x); none when no index is served."""
    from indexer.store import IndexMetadata, IndexProblem

    try:
        reader = IndexMetadata(settings.index_dir)
    except IndexProblem:
        return []
    try:
        page = duplicate_key(url)
        return [d for d in reader.docs if d["url"] and duplicate_key(d["url"]) == page]
    finally:
        reader.close()


def _same_file(a: str, b: Path) -> bool:
    return Path(a).resolve() == b.resolve()


def _indexed_mentions(settings: Settings, url: str, list_file: Path) -> list[str]:
    """Where the served index has the page, under this URL or another of it, outside the
    list being appended to."""
    return [
        f"{m['source']}:{m['line']}"
        for doc in _served_records(settings, url)
        for m in doc["mentions"]
        if not _same_file(m["source"], list_file)
    ]


class PageFetch:
    """The new page's fetch, here or in a child process (`python -m indexer.fetch`).

    A child imports the fetcher and trafilatura and extracts the page (about a second,
    cold) on the other core while this process parses the lists and opens the index and
    the model; `status()` waits for it. A child that cannot start, dies or says nothing
    usable is replaced by fetching here."""

    def __init__(self, settings: Settings, url: str, offline: bool, in_child: bool):
        self._job = (settings.cache_dir, settings.fetch, settings.allow_hosts, url, offline)
        self._started = time.perf_counter()
        self.seconds = 0.0  # from the start until the status was known
        self._status: str | None = None
        self._child = None
        if in_child and not offline:  # offline, the page cache is read here in no time
            job = {
                "cache_dir": str(settings.cache_dir),
                "limits": asdict(settings.fetch),
                "allow_hosts": list(settings.allow_hosts),
                "url": url,
            }
            command = [sys.executable, "-m", "indexer.fetch", json.dumps(job)]
            try:
                self._child = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
                )
            except OSError:
                self._child = None

    def status(self) -> str:
        if self._status is None:
            self._status = self._from_child() or self._fetch_here()
            self.seconds = round(time.perf_counter() - self._started, 3)
        return self._status

    def _fetch_here(self) -> str:
        from indexer.fetch import fetch_one

        return fetch_one(*self._job)

    def cancel(self) -> None:
        """Stop a child still fetching: its entry was not written, or not published."""
        child, self._child = self._child, None
        if child is not None and child.returncode is None:
            child.kill()
            child.communicate()

    def _from_child(self) -> str | None:
        if self._child is None:
            return None
        try:
            out, _ = self._child.communicate(timeout=FETCH_CHILD_SECONDS)
            last = (out.strip().splitlines() or [""])[-1]  # its answer is the last line
            status = json.loads(last)["status"] if self._child.returncode == 0 else None
        except (subprocess.TimeoutExpired, ValueError, KeyError, TypeError):
            self.cancel()
            status = None
        return status if isinstance(status, str) else None


def publish_sources(settings: Settings, path: Path) -> list[Path]:
    """What the index is built from again: what `recall build` was given for the served
    index (folders as folders), else the data folder, and the list. AddError, before
    anything is written, when that cannot be rebuilt: the rebuild would drop resources."""
    from indexer.store import IndexProblem, read_manifest

    try:
        manifest = read_manifest(settings.index_dir)
    except IndexProblem:
        manifest = None
    inputs = manifest.get("inputs") if manifest else None
    if isinstance(inputs, list) and inputs:
        sources = [Path(source) for source in inputs]
        gone = [source for source in sources if not source.exists()]
        if gone:
            raise AddError(
                f"the served index was built from {gone[0]}, which is gone: build the index "
                "from what it should hold (`recall build`), then add"
            )
    elif settings.data_dir.is_dir():
        sources = [settings.data_dir]
    elif manifest is not None:  # an index of an older Recall, built from elsewhere
        raise AddError(
            f"no data folder {settings.data_dir} and the served index does not say what it "
            "was built from: build it again (`recall build SOURCES`), then add"
        )
    else:
        sources = []
    return [*sources, path]


def _served_doc(settings: Settings, url: str, path: Path, lines: range) -> dict | None:
    """The served record of the resource when it holds this very mention, else None."""
    doc = next((d for d in _served_records(settings, url) if d["url"] == url), None)
    mentioned = doc is not None and any(
        m["line"] in lines and _same_file(m["source"], path) for m in doc["mentions"]
    )
    return doc if mentioned else None


def publish(
    settings: Settings,
    url: str,
    sources: list[Path],
    path: Path,
    lines: range,
    page: PageFetch,
    embedder=None,
) -> dict | None:
    """An index holding the new mention and its page: built here, or by a concurrent add
    that read the page after it was fetched (builds of one index run one at a time). The
    lists are parsed and the model loaded while the page is still being fetched."""
    from indexer.build import Builder, FetchOutcome, fetch_pages, maintained
    from indexer.store import BuildLocked

    settings = maintained(settings)
    builder = Builder(settings, embedder)
    builder.load_model()  # now, while the page is being fetched

    def fetch_after_the_page(resources, build_settings, **options):
        """The other pages read from the cache while the new one is fetched, then it.
        (The build reads pages and evidence, not the fetch counts.)"""
        rest = [r for r in resources if r.url != url]
        others = fetch_pages(rest, build_settings, **options)
        page.status()
        new = fetch_pages([r for r in resources if r.url == url], build_settings, **options)
        pages, evidence = {**others.pages, **new.pages}, {**others.evidence, **new.evidence}
        return FetchOutcome(pages, new.stats, evidence=evidence)

    deadline = time.monotonic() + PUBLISH_WAIT_SECONDS
    while True:
        try:
            builder.build(sources, offline=True, fetch=fetch_after_the_page)
        except BuildLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            doc = _served_doc(settings, url, path, lines)
            if doc is not None and doc["fetch_status"] == page.status():
                return doc
            continue
        return _served_doc(settings, url, path, lines)


def add_resource(
    settings: Settings,
    request: AddRequest,
    list_file: str | Path | None = None,
    *,
    offline: bool = False,
    embedder=None,
    fetch_in_child: bool = False,
) -> AddResult:
    """Append, fetch that one page, publish; AddError (and nothing written) on bad input.

    `fetch_in_child` is for a cold process (the CLI): the page is fetched beside the
    publishing's first steps. A warm one (the app) has its fetcher loaded already."""
    from indexer.store import read_manifest

    clock = time.perf_counter()
    entry = entry_for(request)
    path = list_path(settings, list_file)
    sources = publish_sources(settings, path)
    url = normalize_url(entry.links[0].url)
    page = PageFetch(settings, url, offline, fetch_in_child)  # it runs while the list is written
    try:
        lines, already = append_entry(path, entry)
        result = AddResult(url, str(path), lines.start)
        result.already = list(dict.fromkeys(_indexed_mentions(settings, url, path) + already))
        result.seconds["write"] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()
        doc = publish(settings, url, sources, path, lines, page, embedder)
        result.fetch_status = page.status()
    finally:
        page.cancel()  # a list not written or an index not published leaves it running
    result.build_id = read_manifest(settings.index_dir)["build_id"]
    result.searchable = doc is not None
    result.link_health = doc.get("link_health") if doc else None
    result.seconds["fetch"] = page.seconds
    result.seconds["publish"] = round(time.perf_counter() - clock, 3)
    return result
