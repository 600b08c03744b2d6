"""Fault injection shared by test_chaos.py and bench/chaos.py: builds that SIGKILL
themselves at a chosen point, processes that search in a loop while the index is
rebuilt, damaged page caches, and the checks that nothing was lost. The child processes
run chaoschild.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CHILD = TESTS / "chaoschild.py"  # what the child processes run

# Where a build can be killed: point -> (stage, what is wrapped, before or after it).
# "fetch" is special: it dies inside a page-cache transaction (chaoschild._kill_in_cache_write).
KILL_POINTS = {
    "parse": ("parse", "indexer.sources.markdown:_FileParser._section", "before"),
    "fetch": ("fetch", None, None),
    "extract": ("fetch", "indexer.pagecache:extract", "before"),
    "embed": ("embed", None, None),  # the n-th batch of KillableEmbedder
    "lexical": ("embed", "indexer.build:field_index", "before"),
    "write-dense": ("publish", "faiss:write_index", "after"),
    "write-meta": ("publish", "indexer.store:_write_meta", "after"),
    "write-lexical": ("publish", "indexer.lexical:FieldIndex.save", "after"),
    "fsync": ("publish", "indexer.store:_fsync_tree", "before"),
    "rename": ("publish", "indexer.store:_publish", "before"),
    "link": ("publish", "os:replace", "before"),  # the new link made, not yet swapped in
    "swapped": ("publish", "os:replace", "after"),  # published, directory not yet fsynced
    "gc": ("publish", "shutil:rmtree", "during"),  # half of an old build deleted
}
PUBLISHED_AT = {"swapped", "gc"}  # points at which the new build is already served
EMBED_BATCH = 32


def child_env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


# ------------------------------------------------------------------ a site to index

_TOPICS = (
    "dense retrieval",
    "transformer attention",
    "convolutional networks",
    "reinforcement learning",
    "bayesian optimisation",
    "graph neural networks",
    "model quantization",
    "speech recognition",
    "time series forecasting",
    "contrastive learning",
    "object detection",
    "knowledge distillation",
)
_PHRASES = (
    "This tutorial explains {topic} step by step with runnable code.",
    "The authors compare {topic} against strong baselines on public benchmarks.",
    "A practical guide to {topic}, its failure modes and how to debug them.",
    "Lecture notes that derive {topic} from first principles.",
)
QUERIES = [
    "dense retrieval tutorial",
    "transformer attention lecture",
    "how to debug reinforcement learning",
    "quantization baselines",
    "graph networks",
]


class Site:
    """English pages on a LocalServer (English keeps Kiwi out of the build processes) and a
    list linking them. Bumping `generation` changes every fifth page, so that each build
    fetches, extracts and embeds something."""

    def __init__(self, server, pages: int, per_section: int = 4):
        self.server, self.pages, self.per_section = server, pages, per_section
        self.generation = 0
        for number in range(pages):
            server.route(f"/site/{number}.html", self._route(number))

    def topic(self, number: int) -> str:
        return _TOPICS[number % len(_TOPICS)]

    def body(self, number: int) -> bytes:
        topic = self.topic(number)
        paragraphs = [phrase.format(topic=topic) for phrase in _PHRASES]
        if number % 5 == 0:
            paragraphs.append(f"Revision {self.generation} adds an errata section on {topic}.")
        paragraphs += [
            f"Section {n}: worked example {n} of {topic} on dataset {number}." for n in range(6)
        ]
        html = "".join(f"<p>{text}</p>" for text in paragraphs)
        title = f"{topic.title()} notes {number}"
        return (
            f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"{html}</article></body></html>"
        ).encode()

    def _route(self, number: int):
        from httpserver import send

        return lambda handler: send(handler, 200, self.body(number))

    def write_list(self, path: Path) -> Path:
        lines = ["# Shared links", ""]
        for number in range(self.pages):
            if number % self.per_section == 0:
                lines += [
                    "",
                    f"## Member{number // self.per_section} (2020.01.{number % 28 + 1:02d})",
                    "",
                ]
            url = self.server.url(f"/site/{number}.html")
            lines.append(f"* [{self.topic(number).title()} {number}]({url}): worth reading")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


FAST_FETCH = {  # RECALL_FETCH_* for builds against a LocalServer
    "RECALL_FETCH_PER_HOST": "8",
    "RECALL_FETCH_PER_HOST_DELAY": "0",
    "RECALL_FETCH_RETRIES": "0",
    "RECALL_FETCH_TOTAL_TIMEOUT": "10",
}


# Two lists whose answers differ, for readers during rebuilds.
LIST_A = """## Alice (2020.01.02)

* [Dense Passage Retrieval for Open-Domain Question Answering](https://arxiv.org/abs/2004.04906)
* [ColBERT: efficient passage search with late interaction](https://arxiv.org/abs/2004.12832)
* [The Annotated Transformer](https://nlp.seas.harvard.edu/annotated-transformer/): attention

## Bob (2020.02.03)

* [Deep reinforcement learning doesn't work yet](https://www.alexirpan.com/2018/02/14/rl-hard.html)
* [Bayesian optimisation primer](https://ex.com/bayes-opt)
"""
LIST_B = (
    LIST_A.replace("attention", "attention, line by line")
    + """
## Carol (2020.03.04)

* [Passage retrieval with BM25 explained](https://ex.com/bm25): passage retrieval basics
* [Transformer attention lecture](https://ex.com/attention-lecture)
"""
)
READER_QUERIES = ["passage retrieval", "transformer attention", "reinforcement learning"]

# ------------------------------------------------------------------ the parent's side


def start_build(
    index: Path,
    cache: Path,
    sources: list[Path],
    kill: str | None = None,
    allow: str | None = None,
    stage_file: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """A build in a child process; `kill` is "POINT:N" (die at the N-th passage there)."""
    command = [sys.executable, str(CHILD), "build", "--index", str(index)]
    command += ["--cache", str(cache)]
    if kill:
        command += ["--kill", kill]
    if allow:
        command += ["--allow", allow]
    if stage_file:
        command += ["--stage-file", str(stage_file)]
    command += [str(source) for source in sources]
    return subprocess.Popen(
        command,
        env={**child_env(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_killed_build(*args, timeout: float = 300, **kwargs) -> tuple[bool, str]:
    """Run a build that should kill itself; (killed, its stderr)."""
    process = start_build(*args, **kwargs)
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        return False, "timed out\n" + err
    return process.returncode == -signal.SIGKILL, err


@dataclass
class Snapshot:
    """What a served index answers and what the page cache holds, before a fault."""

    build_id: str
    answers: dict[str, list[tuple[str, float]]]
    pages: dict[str, str]  # URL -> last good text


def answers(index: Path, queries: list[str], k: int = 5) -> tuple[str, dict]:
    """(build id, query -> [(id, score)]) of the index served at `index`."""
    from fakes import FakeEmbedder

    from indexer.config import load_settings
    from indexer.search import Searcher
    from indexer.store import IndexReader

    searcher = Searcher(IndexReader(index), FakeEmbedder(), load_settings(env={}))
    try:
        return searcher.build_id, {
            query: [(hit.id, hit.score) for hit in searcher.search(query, k=k).results]
            for query in queries
        }
    finally:
        searcher.reader.close()


def cache_pages(cache: Path) -> dict[str, str]:
    from indexer.pagecache import PageCache

    with PageCache(cache) as pages:
        return {record.url: record.text for record in pages.all() if record.text}


def snapshot(index: Path, cache: Path, queries: list[str]) -> Snapshot:
    build_id, served = answers(index, queries)
    return Snapshot(build_id, served, cache_pages(cache))


@dataclass
class Damage:
    """What a fault cost; every field must stay empty."""

    errors: list[str] = field(default_factory=list)  # an index or cache that will not open
    changed_answers: list[str] = field(default_factory=list)
    lost_pages: list[str] = field(default_factory=list)  # cached text that disappeared

    @property
    def lost(self) -> int:
        return len(self.errors) + len(self.changed_answers) + len(self.lost_pages)


def damage_after_kill(index: Path, cache: Path, before: Snapshot) -> tuple[Damage, str, dict]:
    """Compare the served index and the page cache with `before`. Returns the damage, and
    the build id and answers now served: a kill after the link swap legitimately serves
    the new build, whose answers the caller compares with a completed build of the same
    lists."""
    damage = Damage()
    served_id, served = "", {}
    try:
        served_id, served = answers(index, list(before.answers))
    except Exception as exc:  # any failure to open or search is what this looks for
        damage.errors.append(f"index: {type(exc).__name__}: {exc}")
    else:
        if served_id == before.build_id:
            damage.changed_answers = [q for q, hits in served.items() if hits != before.answers[q]]
    try:
        now = cache_pages(cache)
    except Exception as exc:
        damage.errors.append(f"page cache: {type(exc).__name__}: {exc}")
    else:
        damage.lost_pages = [url for url in before.pages if not now.get(url)]
        if any(cache.glob("*.corrupt-*")):
            damage.errors.append("the page cache was found corrupt and moved aside")
    return damage, served_id, served


def complete_build(index: Path, cache: Path, sources: list[Path], allow: str):
    """A build that runs to the end, in this process, fetching from a LocalServer."""
    from fakes import FakeEmbedder

    from indexer.build import Builder, fetch_pages
    from indexer.config import load_settings

    settings = load_settings(
        env=FAST_FETCH,
        index_dir=index,
        cache_dir=cache,
        model=FakeEmbedder.name,
        allow_hosts=(allow,),
    )
    return Builder(settings, FakeEmbedder()).build(sources, fetch=fetch_pages)


# ------------------------------------------------------------- readers during rebuilds


def start_reader(
    kind: str, index: Path, queries: list[str], folder: Path, env: dict | None = None
) -> tuple[subprocess.Popen, Path]:
    """A process searching `queries` in a loop until `folder/stop` exists; its answers go
    to the returned JSON-lines file, and `<out>.ready` appears after its first round."""
    folder.mkdir(parents=True, exist_ok=True)
    query_file = folder / "queries.json"
    query_file.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    out = folder / f"{kind}.jsonl"
    command = [sys.executable, str(CHILD), "reader", "--kind", kind]
    command += ["--index", str(index), "--queries", str(query_file)]
    command += ["--out", str(out), "--stop", str(folder / "stop")]
    process = subprocess.Popen(
        command,
        env={**child_env(), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, out


def read_answers(out: Path) -> list[dict]:
    """The answers a reader wrote so far (a line it is still writing is left out)."""
    records = []
    if out.exists():
        for line in out.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
    return records


def judge_answers(records: list[dict], expected: list[dict]) -> dict:
    """How many answers match one of the expected answer sets, how many none, and errors."""
    result = {"searches": len(records), "errors": [], "mixed": [], "seen": set()}
    for record in records:
        if "error" in record:
            result["errors"].append(record["error"])
            continue
        hits = [tuple(hit) for hit in record["hits"]]
        matches = [n for n, answer in enumerate(expected) if answer[record["q"]] == hits]
        if matches:
            result["seen"].update(matches)
        else:
            result["mixed"].append(record)
    return result


# ------------------------------------------------------------------ index-file damage


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def overwrite(path: Path) -> None:
    path.write_bytes(b"\x00garbage\xff" * 10)


def delete(path: Path) -> None:
    path.unlink()


# ------------------------------------------------------------------ page-cache damage


def _first_table_leaf(path: Path) -> tuple[int, int]:
    """(page number, page size) of the first leaf page of the `pages` table: reading a
    page stored there needs it, opening the cache (which reads the last leaf) does not."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        size = db.execute("PRAGMA page_size").fetchone()[0]
        leaves = db.execute(
            "SELECT pageno FROM dbstat WHERE name = 'pages' AND pagetype = 'leaf' ORDER BY path"
        ).fetchall()
    if len(leaves) < 3:
        raise ValueError(f"{path} is too small to damage only in the middle")
    return leaves[0][0], size


def damage_middle(path: Path) -> None:
    number, size = _first_table_leaf(path)
    with path.open("r+b") as file:
        file.seek((number - 1) * size)
        file.write(bytes(range(256)) * (size // 256))


def damage_garbage(path: Path) -> None:
    path.write_bytes(b"\x00not a database\xff" * 500)


def damage_truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def damage_wal(path: Path) -> None:
    path.with_name(path.name + "-wal").write_bytes(b"\x37\x7f\x06\x82garbage" * 1000)
