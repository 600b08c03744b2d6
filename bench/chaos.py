"""Reliability: builds SIGKILLed at random points, searches during rebuilds, damaged index
and cache files, hostile servers, hostile lists and fuzzed input, with what each cost.

Writes the "Reliability" section of BENCHMARKS.md between `<!-- reliability:start -->`
and `<!-- reliability:end -->` (replacing that block, or appending it), and the raw
figures to bench/out/chaos.json. tests/test_chaos.py, test_hostile_servers.py and
test_fuzz.py are the short versions of each part.

    .venv/bin/python bench/chaos.py            # 34 kills, 5,000 examples per property
    .venv/bin/python bench/chaos.py --quick    # a smoke run; writes bench/out/BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import common  # noqa: E402  (after the path setup above)

SEED = 20240229


# ------------------------------------------------------------------ killed builds


def kill_plan(quick: bool, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, point): hook kills spread over the four stages, then kills at random times."""
    if quick:
        hooks = ["parse", "fetch", "extract", "embed", "write-meta", "link", "swapped", "gc"]
        return [("hook", p) for p in hooks] + [("timed", "")] * 2
    publish = ["write-dense", "write-meta", "write-lexical", "fsync", "rename", "link", "swapped"]
    hooks = ["parse"] * 5 + ["fetch"] * 4 + ["extract"] * 3 + ["embed"] * 3 + ["lexical"] * 2
    hooks += [*publish, "gc", rng.choice(publish)]
    return [("hook", p) for p in hooks] + [("timed", "")] * 8


def run_kills(quick: bool, work: Path, log) -> dict:
    from chaoskit import (
        EMBED_BATCH,
        FAST_FETCH,
        KILL_POINTS,
        QUERIES,
        Site,
        complete_build,
        damage_after_kill,
        run_killed_build,
        snapshot,
        start_build,
    )
    from httpserver import LocalServer

    from indexer.store import builds_dir

    rng = random.Random(SEED)
    pages = 60 if quick else 400
    records = []
    with LocalServer() as server:
        site = Site(server, pages=pages)
        source = site.write_list(work / "list.md")
        index, cache = work / "index", work / "cache"
        for _ in range(3):
            site.generation += 1
            report = complete_build(index, cache, [source], server.allow)
        site.generation += 1
        clock = time.perf_counter()  # how long a whole build takes, for the timed kills
        start_build(index, cache, [source], allow=server.allow, env=FAST_FETCH).communicate()
        whole = time.perf_counter() - clock
        before = snapshot(index, cache, QUERIES)
        counts = {
            "parse": pages // site.per_section + 1,
            "fetch": pages,
            "extract": math.ceil(pages / 5),
            "embed": max(1, math.ceil(report.embedded / EMBED_BATCH)),
        }
        for kind, point in kill_plan(quick, rng):
            site.generation += 1
            clock = time.perf_counter()
            if kind == "hook":
                nth = rng.randint(1, counts.get(point, 1))
                killed, _ = run_killed_build(
                    index,
                    cache,
                    [source],
                    kill=f"{point}:{nth}",
                    allow=server.allow,
                    env=FAST_FETCH,
                )
                stage, where = KILL_POINTS[point][0], f"{point} #{nth}"
            else:
                stage_file = work / "stage"
                stage_file.unlink(missing_ok=True)
                process = start_build(
                    index,
                    cache,
                    [source],
                    allow=server.allow,
                    stage_file=stage_file,
                    env=FAST_FETCH,
                )
                delay = rng.uniform(0.2, whole)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=delay)
                killed = process.poll() is None
                process.kill()
                process.communicate()
                stage = stage_file.read_text() if stage_file.exists() else "startup"
                where = f"after {delay:.1f} s"
            damage, served_id, served = damage_after_kill(index, cache, before)
            published = served_id not in ("", before.build_id)
            try:
                report = complete_build(index, cache, [source], server.allow)
                completed = report.fetch_counts == {"ok": pages}
            except Exception as exc:
                completed = False
                damage.errors.append(f"the next build failed: {exc}")
            after = snapshot(index, cache, QUERIES)
            if published and served != after.answers:
                damage.changed_answers.append("the published build answers differently")
            leftovers = list(builds_dir(index).glob("tmp-*")) + list(work.glob(".index.link-*"))
            if leftovers:
                damage.errors.append(f"left behind: {[p.name for p in leftovers]}")
            records.append(
                {
                    "kind": kind,
                    "stage": stage,
                    "where": where,
                    "killed": killed,
                    "published": published,
                    "next_build_completed": completed,
                    "lost": damage.lost,
                    "damage": damage.__dict__,
                    "seconds": round(time.perf_counter() - clock, 2),
                }
            )
            log(f"  kill {len(records):2d}: {stage:<8} {where:<22} lost {damage.lost}")
            before = after
    return {"pages": pages, "whole_build_s": round(whole, 2), "kills": records}


# ------------------------------------------------------------- readers during rebuilds


def run_readers(quick: bool, work: Path, log) -> dict:
    from chaoskit import (
        LIST_A,
        LIST_B,
        READER_QUERIES,
        answers,
        judge_answers,
        read_answers,
        start_reader,
    )
    from conftest import _no_pages
    from fakes import FakeEmbedder

    from indexer.build import Builder
    from indexer.config import load_settings

    def build(source: Path, name: str):
        settings = load_settings(
            env={}, index_dir=work / name, cache_dir=work / "cache", model=FakeEmbedder.name
        )
        Builder(settings, FakeEmbedder()).build([source], fetch=_no_pages)
        return settings.index_dir

    sources = []
    for name, text in (("a", LIST_A), ("b", LIST_B)):
        sources.append(work / f"{name}.md")
        sources[-1].write_text(text, encoding="utf-8")
    expected = [
        answers(build(source, f"ref-{n}"), READER_QUERIES)[1] for n, source in enumerate(sources)
    ]
    served = build(sources[0], "served")
    folder = work / "readers"
    readers = {kind: start_reader(kind, served, READER_QUERIES, folder) for kind in ("cli", "app")}
    for process, out in readers.values():
        while not Path(f"{out}.ready").exists() and process.poll() is None:
            time.sleep(0.05)
    rebuilds = 10 if quick else 60
    clock = time.perf_counter()
    for number in range(rebuilds):
        build(sources[(number + 1) % 2], "served")
    seconds = time.perf_counter() - clock
    (folder / "stop").touch()
    result = {"rebuilds": rebuilds, "seconds": round(seconds, 1), "readers": {}}
    for kind, (process, out) in readers.items():
        stderr = process.communicate(timeout=120)[1]
        verdict = judge_answers(read_answers(out), expected)
        if process.returncode:
            verdict["errors"].append(f"exit {process.returncode}: {stderr[-500:]}")
        verdict["seen"] = sorted(verdict["seen"])
        verdict["mixed"] = verdict["mixed"][:5]
        result["readers"][kind] = verdict
        log(f"  {kind}: {verdict['searches']} searches, {len(verdict['errors'])} errors")
    return result


# ------------------------------------------------------------------ corruption


def run_index_corruption(quick: bool, work: Path, log) -> dict:
    """Every file of a built index damaged in each way, one case each. The fake model is
    given a word threshold, as the bundled one has, so that the index holds its words."""
    from fakes import FakeEmbedder

    with mock.patch.dict("indexer.wordbridge.WORD_SIMILARITY", {FakeEmbedder.name: 0.5}):
        return _damaged_indexes(quick, work, log)


def _damaged_indexes(quick: bool, work: Path, log) -> dict:
    from chaoskit import answers, delete, flip_byte, overwrite, truncate
    from conftest import SAMPLE_LIST, _no_pages
    from fakes import FakeEmbedder

    from indexer.build import Builder
    from indexer.cli import main
    from indexer.config import load_settings
    from indexer.store import REBUILD_HINT, IndexProblem, IndexReader

    def empty(path: Path) -> None:
        path.write_bytes(b"")

    queries = ["GAN", "시계열 예측", "TPU"]
    cases = []
    damages = [truncate, flip_byte, overwrite, delete, empty]

    def settings_for(index: Path):  # the page and token caches too: none under the cwd
        return load_settings(
            env={}, index_dir=index, cache_dir=work / "cache", model=FakeEmbedder.name
        )

    settings = settings_for(work / "probe")
    Builder(settings, FakeEmbedder()).build([SAMPLE_LIST], fetch=_no_pages)
    folder = settings.index_dir.resolve()
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    for name in names[:3] if quick else names:
        for damage in damages[:2] if quick else damages:
            settings = settings_for(work / f"case{len(cases)}" / "index")
            builder = Builder(settings, FakeEmbedder())
            builder.build([SAMPLE_LIST], fetch=_no_pages)
            expected = answers(settings.index_dir, queries)[1]
            damage(settings.index_dir.resolve() / name)
            case = {"file": name, "damage": damage.__name__, "detected": False, "named": False}
            try:
                IndexReader(settings.index_dir).close()
            except IndexProblem as exc:
                case["detected"] = True
                case["named"] = Path(name).name in str(exc) and REBUILD_HINT in str(exc)
            err = io.StringIO()
            with (
                mock.patch("indexer.search.load_embedder", lambda _: FakeEmbedder()),
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(err),
            ):
                argv = ["search", "GAN", "--json", "--index", str(settings.index_dir)]
                case["cli_exit"] = main(argv)
            case["cli_one_line"] = err.getvalue().count("\n") <= 1
            silent = not case["detected"] and answers(settings.index_dir, queries)[1] != expected
            builder.build([SAMPLE_LIST], full=True, fetch=_no_pages)
            case["recovered"] = answers(settings.index_dir, queries)[1] == expected
            case["lost"] = int(silent or not case["recovered"])
            cases.append(case)
    log(f"  {len(cases)} damaged index files, {sum(c['lost'] for c in cases)} lost")
    return {"cases": cases}


def run_cache_corruption(quick: bool, work: Path, log) -> dict:
    import chaoskit
    from chaoskit import QUERIES, Site, complete_build, snapshot
    from httpserver import LocalServer

    from indexer.pagecache import CACHE_FILENAME, PageCache
    from indexer.store import IndexReader

    def empty(path: Path) -> None:
        path.write_bytes(b"")

    def shm(path: Path) -> None:
        path.with_name(path.name + "-shm").write_bytes(b"\xff" * 32768)

    damages = [
        chaoskit.damage_middle,
        chaoskit.damage_garbage,
        chaoskit.damage_truncated,
        chaoskit.damage_wal,
        empty,
        shm,
    ]
    cases = []
    with LocalServer() as server:
        site = Site(server, pages=24)
        source = site.write_list(work / "list.md")
        for damage in damages[:2] if quick else damages:
            index, cache = work / damage.__name__ / "index", work / damage.__name__ / "cache"
            complete_build(index, cache, [source], server.allow)
            before = snapshot(index, cache, QUERIES)
            damage(cache / CACHE_FILENAME)
            served_unchanged = snapshot(index, cache, [])  # opening the cache recovers it
            report = complete_build(index, cache, [source], server.allow)
            reader = IndexReader(index)
            missing = [d["url"] for d in reader.docs if not reader.page_text(d["id"])]
            reader.close()
            with PageCache(cache) as pages:
                cached = {record.url for record in pages.all() if record.text}
            cases.append(
                {
                    "damage": damage.__name__.removeprefix("damage_"),
                    "set_aside": len(list(cache.glob("*.corrupt-*Z"))),
                    "index_kept": served_unchanged.build_id == before.build_id,
                    "next_build": report.fetch_counts,
                    "lost": len(missing) + len(set(before.pages) - cached),
                }
            )
    log(f"  {len(cases)} damaged caches, {sum(c['lost'] for c in cases)} pages lost")
    return {"cases": cases}


# ------------------------------------------------------------------ fuzzing


def run_fuzz(quick: bool, log) -> dict:
    examples = 300 if quick else 5000
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow"]
    command += ["tests/test_fuzz.py", "tests/test_parser_properties.py"]
    env = {**os.environ, "RECALL_HYPOTHESIS_EXAMPLES": str(examples), "HF_HUB_OFFLINE": "1"}
    clock = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    passed = int(m[1]) if (m := re.search(r"(\d+) passed", summary)) else 0
    failed = int(m[1]) if (m := re.search(r"(\d+) failed", summary)) else 0
    log(f"  fuzz: {summary}")
    return {
        "examples_per_property": examples,
        "passed": passed,
        "failed": failed,
        "summary": summary,
        "seconds": round(time.perf_counter() - clock, 1),
        "output": done.stdout[-3000:] if failed or done.returncode else "",
    }


# ------------------------------------------------------------------ the report


def render(results: dict, quick: bool, command: str) -> str:
    from common import md_table

    kills = results["kills"]["kills"]
    rows = []
    for stage in ("startup", "parse", "fetch", "embed", "publish"):
        mine = [k for k in kills if k["stage"] == stage and k["killed"]]
        if mine:
            ok = sum(k["lost"] == 0 and k["next_build_completed"] for k in mine)
            rows.append(
                [f"SIGKILL during a build: {stage}", len(mine), ok, sum(k["lost"] for k in mine)]
            )
    for kind, verdict in results["readers"]["readers"].items():
        bad = len(verdict["errors"]) + len(verdict["mixed"])
        label = {"cli": "`recall search --json`", "app": "the app's search path"}[kind]
        rows.append(
            [
                f"searches during {results['readers']['rebuilds']} rebuilds: {label}",
                verdict["searches"],
                verdict["searches"] - bad,
                bad,
            ]
        )
    index_cases = results["index_corruption"]["cases"]
    rows.append(
        [
            "damaged index file (each file × truncate, flip, garbage, delete, empty)",
            len(index_cases),
            sum(not c["lost"] for c in index_cases),
            sum(c["lost"] for c in index_cases),
        ]
    )
    cache_cases = results["cache_corruption"]["cases"]
    rows.append(
        [
            "damaged page cache (middle, garbage, truncated, WAL, empty, SHM)",
            len(cache_cases),
            sum(not c["lost"] and c["index_kept"] for c in cache_cases),
            sum(c["lost"] for c in cache_cases),
        ]
    )
    pages = results["hostile_pages"]["pages"]
    rows.append(["hostile pages (below)", len(pages), sum(bool(p["status"]) for p in pages), "–"])
    lists = results["hostile_lists"]["rows"]
    rows.append(["hostile list lines (below)", len(lists), len(lists), "–"])
    fuzz = results["fuzz"]
    rows.append(
        [
            f"fuzzed properties × {fuzz['examples_per_property']:,} examples",
            fuzz["passed"] + fuzz["failed"],
            fuzz["passed"],
            "–",
        ]
    )
    total_lost = sum(r[3] for r in rows if isinstance(r[3], int))
    slowest = max(pages, key=lambda p: p["seconds"])
    hungriest = max(pages, key=lambda p: p["peak_rss_mb"])
    worst_line = max(lists, key=lambda r: r["seconds"])
    index_named = sum(c["named"] for c in index_cases if c["detected"])
    index_detected = sum(c["detected"] for c in index_cases)
    index_recovered = sum(c["recovered"] for c in index_cases)
    parts = [
        "## Reliability",
        "",
        f"`{command}`{' (quick run: small sizes)' if quick else ''}. Faults injected on purpose; "
        "*survived* means the served index kept answering exactly as before (or, once a "
        "killed build had already swapped the link, exactly as a completed build of the same "
        "lists), the page cache opened with every page it held, and the next build completed. "
        f"**Data lost: {total_lost}.**",
        "",
        md_table(["fault", "injected", "survived", "data lost"], rows),
        "",
        f"Kills: {len(kills)} ({sum(k['kind'] == 'hook' for k in kills)} at chosen calls inside "
        f"each stage, {sum(k['kind'] == 'timed' for k in kills)} at random times) on a list of "
        f"{results['kills']['pages']} pages served locally; a whole build takes "
        f"{results['kills']['whole_build_s']} s. Damaged index files: {index_detected} of "
        f"{len(index_cases)} refused with an error naming the file and `recall build --full` "
        f"({index_named} named it)"
        + (
            f"; the other {len(index_cases) - index_detected} changed no answer"
            if index_detected < len(index_cases)
            else ""
        )
        + f". `recall build --full` restored identical answers in {index_recovered} of "
        f"{len(index_cases)} cases. A damaged page cache is moved aside and refilled by the "
        "next build while the served index keeps answering.",
        "",
        f"Worst hostile page: **{slowest['seconds']} s** ({slowest['page']}, limit "
        f"`RECALL_FETCH_TOTAL_TIMEOUT`=30 s) and **{hungriest['peak_rss_mb']} MB** peak RSS "
        f"growth ({hungriest['page']}). Default limits, each page fetched and extracted alone "
        f"in one process; {results['hostile_pages']['internal_requests']} requests reached the "
        "internal server the redirects pointed at:",
        "",
        md_table(
            ["page", "status", "seconds", "peak RSS growth (MB)", "text kept (chars)"],
            [
                [p["page"], p["status"], p["seconds"], p["peak_rss_mb"], p["text_chars"]]
                for p in pages
            ],
        ),
        "",
        f"Hostile list lines (`parse_text`, one line of {results['hostile_lists']['sizes'][1]:,} "
        "characters, or a file of many lines of one block; growth is the time against a line "
        f"or file four times shorter, about 4 when linear): worst {worst_line['seconds']} s "
        f"({worst_line['line']}), largest growth "
        f"{max(r['growth'] or 0 for r in lists)}. A list nested "
        f"{results['hostile_lists']['deep_expected']:,} bullets deep kept "
        f"{results['hostile_lists']['deep_links']:,} of "
        f"{results['hostile_lists']['deep_expected']:,} links.",
        "",
        f"Fuzzing (`tests/test_fuzz.py`, `tests/test_parser_properties.py`): "
        f"{fuzz['passed']} properties passed and {fuzz['failed']} failed with "
        f"{fuzz['examples_per_property']:,} examples each, in {fuzz['seconds']} s.",
    ]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few faults")
    args = parser.parse_args()
    import chaos_hostile

    common.quiet()
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", flush=True)

    results = {}
    work = Path(tempfile.mkdtemp(prefix="recall-chaos-"))
    for folder in ("pages", "kills", "readers", "index", "cache"):
        (work / folder).mkdir()
    try:
        for name, run in (
            ("hostile_lists", lambda: chaos_hostile.run_hostile_lists(args.quick, log)),
            (
                "hostile_pages",
                lambda: chaos_hostile.run_hostile_pages(args.quick, work / "pages", log),
            ),
            ("kills", lambda: run_kills(args.quick, work / "kills", log)),
            ("readers", lambda: run_readers(args.quick, work / "readers", log)),
            ("index_corruption", lambda: run_index_corruption(args.quick, work / "index", log)),
            ("cache_corruption", lambda: run_cache_corruption(args.quick, work / "cache", log)),
            ("fuzz", lambda: run_fuzz(args.quick, log)),
        ):
            log(f"{name} ...")
            results[name] = run()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    command = "python bench/chaos.py" + (" --quick" if args.quick else "")
    section = render(results, args.quick, command)
    common.write_json(common.OUT / "chaos.json", results)
    target = (common.OUT if args.quick else common.ROOT) / "BENCHMARKS.md"
    common.write_kept_block(target, "reliability", section)
    print(section)
    log(f"wrote the reliability section of {target}")


if __name__ == "__main__":
    main()
