"""Polite, bounded, concurrent HTTP fetching of listed pages into the page cache.

A fetch ends with one status per URL: ok, not_modified, http_<code> (e.g. http_404),
timeout, dns, refused, tls, network_error, too_large, too_many_redirects, robots,
blocked_address, unsupported_type, invalid_url, offline (not cached, network unused)
or error (a bug, logged).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from tqdm import tqdm

from indexer.config import FetchLimits
from indexer.extract import content_kind, media_type
from indexer.linkhealth import check_result
from indexer.pagecache import (
    PageCache,
    PageRecord,
    StoredResponse,
    failure_record,
    not_modified_record,
    response_record,
    utc_now,
)
from indexer.resources import FETCHABLE_SCHEMES, normalize_url, url_problem

if TYPE_CHECKING:
    import httpx

# httpx and indexer.transport are imported where the network is used: a run that only
# reads the page cache (an offline build) never loads them.

log = logging.getLogger(__name__)

_NETWORK_DOWN_STATUSES = frozenset({"dns", "refused"})
_RETRYABLE_STATUSES = frozenset({"refused", "network_error", "http_429"})
_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB


@dataclass
class FetchStats:
    """What the last fetch_all did, for reports and for tests."""

    statuses: Counter = field(default_factory=Counter)  # status of each returned record
    requests: int = 0  # page GETs sent: every redirect hop and retry counts
    conditional: int = 0  # of those, how many carried If-None-Match / If-Modified-Since
    robots_requests: int = 0
    retries: int = 0
    from_cache: int = 0  # answered from the cache without the network (offline, max-age)
    checked: int = 0  # URLs whose link health this run checked over the network
    network_down: bool = False

    def to_dict(self) -> dict:
        data = asdict(self)
        data["statuses"] = dict(sorted(self.statuses.items()))
        return data


@dataclass
class _Outcome:
    """One attempt at one URL; status "redirect" never leaves the fetcher."""

    status: str
    http_status: int | None = None
    final_url: str | None = None
    error: str | None = None
    response: StoredResponse | None = None
    location: str | None = None
    retry_after: float | None = None
    etag: str | None = None  # validators of a 304
    last_modified: str | None = None
    nxdomain: bool = False  # a DNS failure saying the name does not exist


# ------------------------------------------------------------------ the fetcher


class Fetcher:
    """Fetches URLs into a PageCache: concurrent but polite, bounded in time and
    memory, and never raising for a page that fails (failures are statuses)."""

    def __init__(
        self,
        cache: PageCache,
        limits: FetchLimits | None = None,
        allow_hosts: Iterable[str] = (),
        offline: bool = False,
        max_age_seconds: float | None = None,
    ):
        self.cache = cache
        self.limits = limits or FetchLimits()
        self.allow_hosts = tuple(allow_hosts)
        self.offline = offline
        self.max_age_seconds = max_age_seconds
        self.stats = FetchStats()
        self._agent = self.limits.user_agent.split("/")[0]

    def fetch_all(self, urls: Iterable[str], progress: bool = False) -> dict[str, PageRecord]:
        """Fetch (or revalidate, or read from the cache) every URL; keys are normalised URLs."""
        pending: dict[str, str] = {}
        for url in urls:
            pending.setdefault(normalize_url(url), url)
        # One worker thread extracts and stores pages while the event loop keeps the
        # network busy: more threads only fight the loop for the GIL (a 200-page run
        # took twice as long with six), and one writer keeps SQLite writes serial.
        with (
            tqdm(total=len(pending), disable=not progress, unit="page", desc="fetch") as bar,
            ThreadPoolExecutor(1, thread_name_prefix="recall-extract") as self._worker,
        ):
            return asyncio.run(self._run(pending, bar))

    async def _run(self, pending: dict[str, str], bar: tqdm) -> dict[str, PageRecord]:
        self.stats = FetchStats()
        self._global_slots = asyncio.Semaphore(self.limits.concurrency)
        self._host_slots: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self.limits.per_host)
        )
        self._next_start: dict[str, float] = {}
        self._robots: dict[str, RobotFileParser | None] = {}
        self._robots_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._answered = False
        self._answered_hosts: set[str] = set()
        self._checked: dict[str, _Outcome] = {}  # what this run asked the network, per URL
        self._network_failures = 0
        # Tasks are created in a sliding window: a 100,000-link list never becomes
        # 100,000 live coroutines, yet the window is wide enough that one slow host
        # does not hold the others back.
        window = asyncio.Semaphore(max(64, self.limits.concurrency * 16))
        results: dict[str, PageRecord] = {}

        async def one(key: str, original: str) -> None:
            try:
                record = await self._fetch_one(key, original)
            except Exception as exc:  # one page must never stop a build
                log.exception("fetching %s failed unexpectedly", key)
                record = failure_record(None, key, status="error", now=utc_now(), error=repr(exc))
            finally:
                window.release()
            results[key] = record
            self.stats.statuses[record.status] += 1
            bar.update()

        # Offline, every answer comes from the cache: no client (nor its TLS set-up).
        if self.offline:
            client = nullcontext()
        else:
            from indexer.transport import make_client

            client = make_client(self.limits, self.allow_hosts)
        async with client as self._client, asyncio.TaskGroup() as group:
            for key, original in pending.items():
                await window.acquire()
                group.create_task(one(key, original))
        self.stats.network_down = self._network_is_down()
        self.stats.checked = len(self._checked)
        self.cache.record_checks(self._check_results(), utc_now())
        return {key: results[key] for key in pending}

    def _check_results(self) -> dict[str, str]:
        """Each checked URL's result for its link health, judged once the whole run is
        known: an NXDOMAIN counts only if another host answered in this run."""
        results = {}
        for key, outcome in self._checked.items():
            host = urlsplit(key).hostname or ""
            others_up = bool(self._answered_hosts - {host})
            results[key] = check_result(
                outcome.status, outcome.http_status, outcome.nxdomain, others_up
            )
        return results

    async def _fetch_one(self, key: str, original: str) -> PageRecord:
        problem = url_problem(original)
        if problem is not None:
            return PageRecord(key, "invalid_url", error=problem)
        cached = self.cache.get(key)
        if self.offline or self._network_is_down():
            return self._from_cache(key, cached)
        if self._is_fresh(cached):
            self.stats.from_cache += 1
            return cached
        outcome = await self._download(key, cached)
        if outcome.status == "offline":
            return self._from_cache(key, cached)
        self._note_network(outcome)
        self._checked[key] = outcome
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._store, key, cached, outcome)

    def _from_cache(self, key: str, cached: PageRecord | None) -> PageRecord:
        if cached is None:
            return PageRecord(key, "offline", error="not in the cache; the network was not used")
        self.stats.from_cache += 1
        return cached

    def _is_fresh(self, cached: PageRecord | None) -> bool:
        if cached is None or self.max_age_seconds is None or not cached.fetched_at:
            return False
        age = datetime.now(UTC) - datetime.fromisoformat(cached.fetched_at)
        return age.total_seconds() < self.max_age_seconds

    def _network_is_down(self) -> bool:
        return not self._answered and (self._network_failures >= self.limits.offline_after_failures)

    def _note_network(self, outcome: _Outcome) -> None:
        if outcome.http_status is not None:
            self._answered = True
            self._answered_hosts.add(urlsplit(outcome.final_url or "").hostname or "")
        elif outcome.status in _NETWORK_DOWN_STATUSES and not self._answered:
            self._network_failures += 1
            if self._network_failures == self.limits.offline_after_failures:
                log.warning(
                    "the network looks unavailable: the first %d fetches all failed on DNS "
                    "or connection; using the cache for the remaining pages",
                    self._network_failures,
                )

    def _store(self, key: str, cached: PageRecord | None, outcome: _Outcome) -> PageRecord:
        """Runs in the worker thread: extraction and compression would stall the event loop."""
        now = utc_now()
        response = None
        if outcome.status == "ok" and outcome.response is not None:
            record, response = response_record(cached, key, outcome.response, self.limits, now=now)
        elif outcome.status == "not_modified" and cached is not None:
            record = not_modified_record(
                cached,
                now=now,
                etag=outcome.etag,
                last_modified=outcome.last_modified,
            )
        else:
            status = "http_304" if outcome.status == "not_modified" else outcome.status
            record = failure_record(
                cached,
                key,
                status=status,
                now=now,
                http_status=outcome.http_status,
                final_url=outcome.final_url,
                error=outcome.error,
            )
        self.cache.put(record, response)
        return record

    # -- network

    async def _download(self, url: str, cached: PageRecord | None) -> _Outcome:
        validators = {}
        if cached is not None and cached.last_ok_at is not None:
            if cached.etag:
                validators["If-None-Match"] = cached.etag
            if cached.last_modified:
                validators["If-Modified-Since"] = cached.last_modified
        attempt = 0
        while True:
            outcome = await self._attempt(url, validators)
            delay = self._retry_delay(outcome, attempt)
            if delay is None or self._network_is_down():
                return outcome
            attempt += 1
            self.stats.retries += 1
            await asyncio.sleep(delay)

    def _retry_delay(self, outcome: _Outcome, attempt: int) -> float | None:
        retryable = outcome.status in _RETRYABLE_STATUSES or outcome.status.startswith("http_5")
        if not retryable or attempt >= self.limits.retries:
            return None
        if outcome.retry_after is not None:
            return (
                outcome.retry_after if outcome.retry_after <= self.limits.max_retry_after else None
            )
        return self.limits.backoff * 2**attempt

    async def _attempt(
        self, url: str, headers: dict[str, str], robots_file: bool = False
    ) -> _Outcome:
        """One try at a URL, following up to max_redirects redirects, each hop checked."""
        current = url
        for _ in range(self.limits.max_redirects + 1):
            if urlsplit(current).scheme not in FETCHABLE_SCHEMES:
                return _Outcome(
                    "invalid_url", final_url=current, error="redirect to a non-HTTP URL"
                )
            if not robots_file and not await self._robots_allow(current):
                return _Outcome("robots", final_url=current, error="disallowed by robots.txt")
            async with self._slot(current, paced=not robots_file):
                if robots_file:
                    self.stats.robots_requests += 1
                elif self._network_is_down():
                    return _Outcome("offline")  # it went down while this page waited
                else:
                    self.stats.requests += 1
                    self.stats.conditional += bool(headers)
                outcome = await self._get(current, headers)
            if outcome.status != "redirect":
                return outcome
            current = outcome.location or current
        return _Outcome(
            "too_many_redirects",
            final_url=current,
            error=f"more than {self.limits.max_redirects} redirects",
        )

    @asynccontextmanager
    async def _slot(self, url: str, paced: bool = True) -> AsyncIterator[None]:
        """At most per_host requests in flight to a host, per_host_delay seconds between
        the starts of its paced requests (pages: the one small robots.txt request before
        them is not paced), and at most `concurrency` in flight overall."""
        host = urlsplit(url).hostname or ""
        async with self._host_slots[host]:
            if paced:
                now = time.monotonic()
                start = max(now, self._next_start.get(host, 0.0))
                self._next_start[host] = start + self.limits.per_host_delay
                if start > now:
                    await asyncio.sleep(start - now)
            async with self._global_slots:
                yield

    async def _get(self, url: str, headers: dict[str, str]) -> _Outcome:
        """One GET, read to the end or to the first limit, never longer than total_timeout
        of wall-clock time (a per-read timeout alone lets a server drip forever)."""
        import httpx

        from indexer.transport import (
            BlockedAddress,
            DNSFailure,
            TooLarge,
            UnsupportedEncoding,
            connect_status,
        )

        try:
            async with asyncio.timeout(self.limits.total_timeout):
                async with self._client.stream("GET", url, headers=headers) as response:
                    return await self._read(response)
        except (TimeoutError, httpx.TimeoutException):
            error = f"no complete answer within {self.limits.total_timeout} s"
            return _Outcome("timeout", final_url=url, error=error)
        except BlockedAddress as exc:
            return _Outcome("blocked_address", final_url=url, error=str(exc))
        except DNSFailure as exc:
            return _Outcome("dns", final_url=url, error=str(exc), nxdomain=exc.nxdomain)
        except httpx.ConnectError as exc:
            return _Outcome(connect_status(exc), final_url=url, error=str(exc) or repr(exc))
        except TooLarge as exc:
            return _Outcome("too_large", final_url=url, error=str(exc))
        except UnsupportedEncoding as exc:
            return _Outcome("unsupported_type", final_url=url, error=str(exc))
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return _Outcome("invalid_url", final_url=url, error=str(exc))
        except (httpx.HTTPError, zlib.error) as exc:
            return _Outcome("network_error", final_url=url, error=str(exc) or repr(exc))

    async def _read(self, response: httpx.Response) -> _Outcome:
        from indexer.transport import parse_retry_after, read_body

        code = response.status_code
        here = str(response.url)
        location = response.headers.get("location")
        if code in _REDIRECT_CODES and location:
            return _Outcome("redirect", code, here, location=urljoin(here, location.strip()))
        if code == 304:
            etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
            return _Outcome("not_modified", code, here, etag=etag, last_modified=modified)
        if not 200 <= code < 300:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return _Outcome(f"http_{code}", code, here, retry_after=retry_after)
        content_type = response.headers.get("content-type")
        if content_kind(content_type) is None:
            error = f"content type {media_type(content_type)}"
            return _Outcome("unsupported_type", code, here, error=error)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limits.max_bytes:
            return _Outcome("too_large", code, here, error=f"Content-Length {length}")
        body = await read_body(response, self.limits.max_bytes)
        headers = response.headers.multi_items()
        stored = StoredResponse(here, code, response.reason_phrase, headers, body, utc_now())
        return _Outcome("ok", code, here, response=stored)

    # -- robots.txt

    async def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        async with self._robots_locks[origin]:
            if origin not in self._robots:
                self._robots[origin] = await self._load_robots(origin)
        rules = self._robots[origin]
        return rules is None or rules.can_fetch(self._agent, url)

    async def _load_robots(self, origin: str) -> RobotFileParser | None:
        """Rules for an origin; None means everything is allowed.

        Per RFC 9309 a missing robots.txt (4xx) allows everything and a server error
        disallows everything. When robots.txt cannot be reached at all, the page
        request that follows fails the same way and records why.
        """
        outcome = await self._attempt(origin + "/robots.txt", {}, robots_file=True)
        if outcome.status == "ok" and outcome.response is not None:
            rules = RobotFileParser()
            text = outcome.response.body[:_ROBOTS_MAX_BYTES].decode("utf-8", errors="replace")
            rules.parse(text.splitlines())
            return rules
        if outcome.status.startswith("http_5"):
            rules = RobotFileParser()
            rules.disallow_all = True
            return rules
        return None


def fetch_one(
    cache_dir: Path, limits: FetchLimits, allow_hosts: tuple[str, ...], url: str, offline: bool
) -> str:
    """Fetch one page into the page cache; its fetch status."""
    with PageCache(cache_dir) as cache:
        fetcher = Fetcher(cache, limits, allow_hosts=allow_hosts, offline=offline)
        return fetcher.fetch_all([url])[url].status


def _fetch_job(job_json: str) -> None:
    """`python -m indexer.fetch JOB`: one page fetched into the cache (`recall add`'s child;
    JOB is the JSON that indexer.add.PageFetch writes), its status printed as JSON."""
    # httpx runs under asyncio here, yet httpcore imports trio whenever it is installed
    # (selenium brings it): 0.3 s of a cold fetch. A None entry makes that import fail.
    sys.modules.setdefault("trio", None)
    job = json.loads(job_json)
    limits = FetchLimits(**job["limits"])
    status = fetch_one(
        Path(job["cache_dir"]), limits, tuple(job["allow_hosts"]), job["url"], offline=False
    )
    print(json.dumps({"status": status}))


if __name__ == "__main__":
    _fetch_job(sys.argv[1])
