"""Fault injection shared by test_chaos.py and bench/chaos.py: builds that SIGKILL
themselves at a chosen point, processes that search in a loop while the index is
rebuilt, and the checks that nothing was lost.

The child processes run this file as a script:

    python tests/chaoskit.py build  --index I --cache C --kill POINT:N [--allow H] SOURCE...
    python tests/chaoskit.py reader --kind cli|app --index I --queries F --out F --stop F

Both use FakeEmbedder and stub `indexer.embed`, so that neither imports torch; a
reader loads "fake" indexes through the stub exactly as the CLI and the app load a
real model.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# Where a build can be killed: point -> (stage, what is wrapped, before or after it).
# "fetch" is special: it dies inside a page-cache transaction (see _kill_in_cache_write).
KILL_POINTS = {
    "parse": ("parse", "indexer.parser:_FileParser._section", "before"),
    "fetch": ("fetch", None, None),
    "extract": ("fetch", "indexer.pagecache:extract", "before"),
    "embed": ("embed", None, None),  # the n-th batch of KillableEmbedder
    "lexical": ("embed", "indexer.build:LexicalIndex.from_texts", "before"),
    "write-dense": ("publish", "faiss:write_index", "after"),
    "write-meta": ("publish", "indexer.store:_write_meta", "after"),
    "write-lexical": ("publish", "indexer.lexical:LexicalIndex.save", "after"),
    "fsync": ("publish", "indexer.store:_fsync_tree", "before"),
    "rename": ("publish", "indexer.store:_publish", "before"),
    "link": ("publish", "os:replace", "before"),  # the new link made, not yet swapped in
    "swapped": ("publish", "os:replace", "after"),  # published, directory not yet fsynced
    "gc": ("publish", "shutil:rmtree", "during"),  # half of an old build deleted
}
STAGES = ("parse", "fetch", "embed", "publish")
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
    command = [sys.executable, str(Path(__file__)), "build", "--index", str(index)]
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
    command = [sys.executable, str(Path(__file__)), "reader", "--kind", kind]
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


# ------------------------------------------------------------------ the children's side


def _install_fake_model() -> None:
    """indexer.embed without torch: load_embedder("fake") is a FakeEmbedder."""
    sys.path[:0] = [str(ROOT), str(TESTS)]
    from fakes import FakeEmbedder

    stub = types.ModuleType("indexer.embed")

    class ModelLoadError(RuntimeError):
        pass

    def load_embedder(name: str):
        if name == FakeEmbedder.name:
            return FakeEmbedder()
        raise ModelLoadError(f"this process only has the fake model, not {name!r}")

    stub.Embedder = object
    stub.ModelLoadError = ModelLoadError
    stub.load_embedder = load_embedder
    sys.modules["indexer.embed"] = stub


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _resolve(target: str):
    module_name, _, path = target.partition(":")
    owner = __import__(module_name, fromlist=["_"])
    *parents, attr = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    return owner, attr


def _arm(point: str, nth: int, index: Path) -> None:
    _, target, when = KILL_POINTS[point]
    if point == "fetch":
        _kill_in_cache_write(nth)
        return
    if target is None:
        return
    owner, attr = _resolve(target)
    original = getattr(owner, attr)
    calls = 0
    index_link = str(index)

    def counted(*args) -> bool:
        nonlocal calls
        if attr == "replace" and str(args[1]) != index_link:
            return False  # other renames are not the publication
        if attr == "rmtree" and Path(args[0]).name.startswith("tmp-"):
            return False  # staging of a killed build, not an old build
        calls += 1
        return calls == nth

    def wrapper(*args, **kwargs):
        hit = counted(*args)
        if hit and when == "before":
            _die()
        if hit and when == "during":  # delete part of the tree, then die
            files = sorted(p for p in Path(args[0]).rglob("*") if p.is_file())
            for path in files[: len(files) // 2 + 1]:
                path.unlink()
            _die()
        result = original(*args, **kwargs)
        if hit:
            _die()
        return result

    setattr(owner, attr, wrapper)  # on a class, a plain function still receives self


def _kill_in_cache_write(nth: int) -> None:
    """Die as the n-th response is inserted: the page row is written, the transaction is
    not committed."""
    import indexer.pagecache as pagecache

    connect = pagecache.PageCache._connect
    count = 0

    def trace(statement: str) -> None:
        nonlocal count
        if statement.startswith("INSERT OR REPLACE INTO responses"):
            count += 1
            if count == nth:
                _die()

    def connect_traced(self):
        db = connect(self)
        db.set_trace_callback(trace)
        return db

    pagecache.PageCache._connect = connect_traced


def _mark_stages(stage_file: Path) -> None:
    """Write each stage's name to stage_file as the build enters it (for timed kills)."""
    import indexer.build as build
    import indexer.store as store

    def entering(stage: str, function):
        def wrapper(*args, **kwargs):
            stage_file.write_text(stage)
            return function(*args, **kwargs)

        return wrapper

    build.parse_sources = entering("parse", build.parse_sources)
    build.fetch_pages = entering("fetch", build.fetch_pages)
    build.LexicalIndex.from_texts = entering("embed", build.LexicalIndex.from_texts)
    store.dense_index = entering("publish", store.dense_index)


def _child_build(args) -> None:
    _install_fake_model()
    from fakes import FakeEmbedder

    index = Path(args.index)
    point, _, nth = (args.kill or "").partition(":")
    nth = int(nth or 0)
    if args.stage_file:
        _mark_stages(Path(args.stage_file))

    class KillableEmbedder(FakeEmbedder):
        """Embeds in batches and dies before the n-th one when the point is "embed"."""

        def encode_passages(self, texts, batch_size=EMBED_BATCH, show_progress=False):
            if args.stage_file:
                Path(args.stage_file).write_text("embed")
            parts = []
            for number, start in enumerate(range(0, len(texts), EMBED_BATCH), start=1):
                if point == "embed" and number == nth:
                    _die()
                parts.append(super().encode_passages(texts[start : start + EMBED_BATCH]))
            import numpy as np

            return np.vstack(parts) if parts else np.zeros((0, self.dimension), np.float32)

    if point:
        _arm(point, nth, index)
    import indexer.build as build
    from indexer.config import load_settings

    settings = load_settings(
        index_dir=index,
        cache_dir=Path(args.cache),
        model=FakeEmbedder.name,
        allow_hosts=tuple(args.allow) or None,
    )
    report = build.Builder(settings, KillableEmbedder()).build(
        [Path(s) for s in args.sources], fetch=build.fetch_pages
    )
    print(json.dumps({"build_id": report.build_id, "fetch": report.fetch_counts}))


def _child_reader(args) -> None:
    _install_fake_model()
    queries = json.loads(Path(args.queries).read_text(encoding="utf-8"))
    stop, out = Path(args.stop), Path(args.out)
    search = _cli_search if args.kind == "cli" else _app_search(Path(args.index))
    rounds = 0
    with out.open("w", encoding="utf-8") as sink:
        while not stop.exists():
            for query in queries:
                try:
                    record = {"q": query, "hits": search(args.index, query)}
                except BaseException as exc:  # every failure is what the parent counts
                    record = {"q": query, "error": f"{type(exc).__name__}: {exc}"}
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                sink.flush()
            rounds += 1
            if rounds == 1:
                Path(str(out) + ".ready").touch()


def _cli_search(index: str, query: str) -> list:
    """`recall search --json` in this process; each call opens the index afresh."""
    from indexer.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["search", query, "--json", "-k", "5", "--index", index])
    if code != 0:
        raise RuntimeError(f"exit code {code}: {stderr.getvalue().strip()}")
    return [[hit["id"], hit["score"]] for hit in json.loads(stdout.getvalue())["results"]]


def _app_search(index: Path):
    """The app's own search path: the searcher cached by build id, re-read every run."""
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from indexer.search import Filters
    from search_ui import engine

    def search(_index: str, query: str) -> list:
        current = engine.open_engine(index)
        response = engine.search(current, current.build_id, query, 5, Filters(), "hybrid")
        return [[hit.id, hit.score] for hit in response.results]

    return search


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="chaoskit")
    sub = parser.add_subparsers(dest="role", required=True)
    build = sub.add_parser("build")
    build.add_argument("sources", nargs="+")
    build.add_argument("--index", required=True)
    build.add_argument("--cache", required=True)
    build.add_argument("--kill")
    build.add_argument("--allow", action="append", default=[])
    build.add_argument("--stage-file")
    reader = sub.add_parser("reader")
    reader.add_argument("--kind", choices=("cli", "app"), required=True)
    reader.add_argument("--index", required=True)
    reader.add_argument("--queries", required=True)
    reader.add_argument("--out", required=True)
    reader.add_argument("--stop", required=True)
    args = parser.parse_args(argv)
    if args.role == "build":
        _child_build(args)
    else:
        _child_reader(args)


if __name__ == "__main__":
    main()
