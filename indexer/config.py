"""Packaged defaults for paths, models and limits, overridable by RECALL_* variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from indexer.linkhealth import DeadRule
from indexer.sources.options import ReadOptions

DEFAULT_MODEL = "use-multilingual"


@dataclass(frozen=True)
class FetchLimits:
    """Politeness and safety limits for fetching linked pages."""

    concurrency: int = 8
    per_host: int = 2
    per_host_delay: float = 0.5  # seconds between two requests to one host
    connect_timeout: float = 10.0
    total_timeout: float = 30.0  # whole page, connect to last byte
    max_redirects: int = 5
    max_bytes: int = 20 * 1024 * 1024  # decoded bytes; a gzip bomb stops here too
    retries: int = 3
    backoff: float = 1.0  # first retry delay in seconds, doubled each time
    max_retry_after: float = 60.0  # never sleep longer than this on a Retry-After
    max_pdf_pages: int = 300
    # decoded page content read per PDF: pypdf parses ~0.3 MB/s, and a 12 kB PDF can
    # inflate to 75 MB of operators
    max_pdf_content_bytes: int = 4_000_000
    # HTML longer than this skips main-text extraction (trafilatura takes seconds per MB)
    # for a linear tag strip
    max_html_chars: int = 2_000_000
    max_text_chars: int = 2_000_000  # extracted text kept per page
    offline_after_failures: int = 8  # consecutive DNS/connection failures => network down
    user_agent: str = "Recall/0.1 (community resource indexer; +https://github.com/recall-search)"


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about where things are and how far to go."""

    data_dir: Path = Path("data")
    index_dir: Path = Path("data/index")
    cache_dir: Path = Path("data/cache")
    model: str = DEFAULT_MODEL
    allow_hosts: tuple[str, ...] = ()
    fetch: FetchLimits = field(default_factory=FetchLimits)
    max_query_chars: int = 2000
    max_resources_per_build: int = 100_000
    ann_threshold: int = 50_000  # passages; above this the dense index is approximate
    reading: ReadOptions = field(default_factory=ReadOptions)  # privacy, chat windows
    dead_rule: DeadRule = field(default_factory=DeadRule)  # evidence that makes a link dead
    # Decompressed copies of the bundled model's weights, read in a fraction of the time.
    model_cache_dir: Path = field(default_factory=lambda: user_cache_dir(os.environ))


def user_cache_dir(env: Mapping[str, str]) -> Path:
    """Recall's folder in the user's cache ($XDG_CACHE_HOME, else ~/.cache)."""
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "recall"


def _split_hosts(value: str) -> tuple[str, ...]:
    return tuple(host.strip() for host in value.split(",") if host.strip())


_ENV_PATHS = {
    "RECALL_DATA": "data_dir",
    "RECALL_INDEX": "index_dir",
    "RECALL_CACHE": "cache_dir",
    "RECALL_MODEL_CACHE": "model_cache_dir",
}
_ENV_INTS = {
    "RECALL_MAX_QUERY_CHARS": "max_query_chars",
    "RECALL_MAX_RESOURCES": "max_resources_per_build",
    "RECALL_ANN_THRESHOLD": "ann_threshold",
}
_FETCH_ENV_PREFIX = "RECALL_FETCH_"
_ENV_READING = {
    "RECALL_CHAT_CONTEXT_MINUTES": "context_minutes",
    "RECALL_CHAT_CONTEXT_MESSAGES": "context_messages",
    "RECALL_CHAT_FOLLOW_UP_MINUTES": "follow_up_minutes",
}


def load_settings(env: Mapping[str, str] | None = None, **overrides) -> Settings:
    """Defaults, then RECALL_* environment variables, then explicit overrides (flags).

    Overrides whose value is None are ignored, so CLI flags that were not given
    fall through to the environment and the defaults.
    """
    env = os.environ if env is None else env
    values: dict = {"model_cache_dir": user_cache_dir(env)}
    for var, name in _ENV_PATHS.items():
        if env.get(var):
            values[name] = Path(env[var])
    for var, name in _ENV_INTS.items():
        if env.get(var):
            values[name] = int(env[var])
    if env.get("RECALL_MODEL"):
        values["model"] = env["RECALL_MODEL"]
    if env.get("RECALL_ALLOW_HOSTS"):
        values["allow_hosts"] = _split_hosts(env["RECALL_ALLOW_HOSTS"])
    fetch_values = {}
    for limit in fields(FetchLimits):
        raw = env.get(_FETCH_ENV_PREFIX + limit.name.upper())
        if raw:
            fetch_values[limit.name] = type(getattr(FetchLimits(), limit.name))(raw)
    values["fetch"] = replace(FetchLimits(), **fetch_values)
    reading = {
        name: type(getattr(ReadOptions(), name))(env[var])
        for var, name in _ENV_READING.items()
        if env.get(var)
    }
    values["reading"] = replace(ReadOptions(), **reading)
    values["dead_rule"] = DeadRule.from_env(env)
    for name, value in overrides.items():
        if value is None:
            continue
        values[name] = Path(value) if name in _ENV_PATHS.values() else value
    return Settings(**values)


def served_index(index: str | Path | None = None) -> Path:
    """The index a server follows: `index`, else RECALL_INDEX, else data/index; absolute but
    not resolved, since each build re-points that link."""
    return load_settings(index_dir=index).index_dir.absolute()
