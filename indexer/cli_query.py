"""`recall search`, `recall related` and `recall eval`; the model and the index are
imported and loaded when a command runs, not to build the parser."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from indexer.answers import TYPES, iso_date, make_filters, related_answer
from indexer.cli_common import (
    EXIT_FAILURE,
    EXIT_OK,
    UsageError,
    add_index_option,
    print_json,
    quick_start,
    terminal_text,
)
from indexer.config import load_settings
from indexer.hits import MODES


def _iso_date(text: str) -> str:
    """argparse type for --since/--until; argparse turns the error into a usage message
    (a UsageError raised here would escape parse_args as a traceback)."""
    try:
        return iso_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _open_searcher(args):
    from indexer.embed import ModelLoadError
    from indexer.search import Searcher
    from indexer.store import IndexProblem

    settings = load_settings(index_dir=args.index)
    try:
        return Searcher.open(settings.index_dir, settings=settings)
    except (IndexProblem, ModelLoadError) as exc:
        raise UsageError(str(exc)) from exc


def _batch_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read batch file {path}: {exc}") from exc


def _check_count(k: int) -> None:
    if k < 1:
        raise UsageError("-k must be at least 1")


def _print_hits(hits) -> None:
    for hit in hits:
        people = ", ".join(hit.contributors) or "-"
        dates = ", ".join(hit.dates) or "-"
        status = (
            "" if hit.fetch_status in (None, "ok", "not_modified") else f"  [{hit.fetch_status}]"
        )
        weak = "  (less related)" if hit.weak else ""
        lines = [
            f"{hit.rank:>2}. {hit.title}{weak}",
            f"    {hit.url or '(note)'}{status}",
            f"    {hit.type} · {hit.domain or '-'} · {people} · {dates}",
        ]
        if hit.filed_under:
            lines.append(f"    filed under: {' · '.join(hit.filed_under)}")
        lines.append(f"    why: {hit.why}")
        if hit.snippet:
            lines.append(f"    {hit.snippet}")
        if hit.also_at:
            lines.append(f"    also posted as: {' · '.join(hit.also_at)}")
        print("\n".join(terminal_text(line) for line in lines))


# ------------------------------------------------------------------------ search


def _add_search(sub) -> None:
    p = sub.add_parser("search", help="ask a question in Korean or English")
    p.add_argument("query", nargs="?", default=None, metavar="QUERY")
    add_index_option(p)
    p.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    p.add_argument("--contributor", action="append", default=[], metavar="NAME")
    p.add_argument("--since", type=_iso_date, metavar="YYYY-MM-DD")
    p.add_argument("--until", type=_iso_date, metavar="YYYY-MM-DD")
    p.add_argument("--domain", action="append", default=[], metavar="HOST")
    p.add_argument("--type", action="append", default=[], choices=TYPES)
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p.add_argument("--expand", action="store_true", help="query expansion (αQE) over top results")
    p.add_argument(
        "--batch", metavar="FILE", help="one query per line; one JSON object per line out"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)


def cmd_search(args) -> int:
    if args.query is None and not args.batch:
        raise UsageError("give a QUERY or --batch FILE")
    _check_count(args.k)
    queries = _batch_lines(args.batch) if args.batch else [args.query]
    try:
        filters = make_filters(args.contributor, args.since, args.until, args.domain, args.type)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    quick_start(kiwi=False)  # queries are read against the index's words (indexer/lexicon.py)
    searcher = _open_searcher(args)
    for query in queries:
        response = searcher.search(
            query, k=args.k, filters=filters, mode=args.mode, expand=args.expand
        )
        if args.batch:
            sys.stdout.write(json.dumps(response.to_dict(), ensure_ascii=False) + "\n")
        elif args.json:
            print_json(response.to_dict())
        else:
            if response.message:
                print(f"({response.message})")
            if response.no_close_match and response.results:
                print("(no close match: every result below is less related)")
            if response.absent_terms:
                print(f"(nothing in the index mentions: {', '.join(response.absent_terms)})")
            _print_hits(response.results)
            print(f"{len(response.results)} results in {response.took_ms:.0f} ms")
    return EXIT_OK


# ------------------------------------------------------------------------ related


def _add_related(sub) -> None:
    p = sub.add_parser("related", help="resources near a given one")
    p.add_argument("ref", nargs="?", default=None, metavar="URL_OR_ID")
    add_index_option(p)
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--batch", metavar="FILE", help="one URL or id per line; JSON lines out")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_related)


def cmd_related(args) -> int:
    if args.ref is None and not args.batch:
        raise UsageError("give a URL_OR_ID or --batch FILE")
    _check_count(args.k)
    refs = [line for line in _batch_lines(args.batch) if line.strip()] if args.batch else [args.ref]
    quick_start(kiwi=False)  # related reads the index's tokens: it analyses no text
    searcher = _open_searcher(args)
    status = EXIT_OK
    for ref in refs:
        try:
            hits = searcher.related(ref, k=args.k)
        except KeyError as exc:
            if not args.batch:
                raise UsageError(exc.args[0]) from exc
            sys.stdout.write(
                json.dumps({"of": ref, "error": exc.args[0]}, ensure_ascii=False) + "\n"
            )
            status = EXIT_FAILURE
            continue
        payload = related_answer(ref, hits)
        if args.batch:
            sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        elif args.json:
            print_json(payload)
        else:
            _print_hits(hits)
    return status


# ------------------------------------------------------------------------ eval


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="MRR, Recall and nDCG on a labelled query file")
    p.add_argument("file", metavar="FILE")
    add_index_option(p)
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p.add_argument("--expand", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)


def _with_interval(summary: dict, k: int) -> str:
    """ "0.779 (95% interval 0.65-0.90)": MRR and how far another draw of as many queries
    might move it."""
    span = summary[f"mrr@{k}_interval"]
    shown = f"{summary[f'mrr@{k}']:.3f}"
    return f"{shown} (95% interval {span[0]:.2f}-{span[1]:.2f})" if span else shown


def _print_summary(summary: dict, k: int) -> None:
    for split, values in summary["splits"].items():
        print(f"  {split:<16} n={values['n']:<3} MRR@{k} {values[f'mrr@{k}']:.3f}")
    confidence = summary.get("confidence")
    if confidence:
        told, strong = (
            confidence["no_close_match_share"],
            confidence["first_relevant_not_weak_share"],
        )
        print(
            f"  unanswerable told 'no close match': "
            f"{'-' if told is None else f'{told:.0%}'} of {confidence['unanswerable']}; "
            f"first relevant hit not weak: {'-' if strong is None else f'{strong:.0%}'} "
            f"of {confidence['answerable_judged']}"
        )


def cmd_eval(args) -> int:
    from indexer.evaluate import EvalSetError, Ranked, evaluate, load_eval_set

    _check_count(args.k)
    try:
        eval_set = load_eval_set(Path(args.file))
    except EvalSetError as exc:
        raise UsageError(str(exc)) from exc
    searcher = _open_searcher(args)

    def rank(query: str, k: int) -> Ranked:
        response = searcher.search(query, k=k, mode=args.mode, expand=args.expand)
        hits = response.results
        return Ranked([h.url for h in hits], [h.weak for h in hits], response.no_close_match)

    def related(ref: str, k: int) -> list[str]:
        try:
            return [hit.url for hit in searcher.related(ref, k=k)]
        except KeyError:
            return []

    result = evaluate(eval_set, rank, related, k=args.k)
    if args.json:
        print_json(result)
        return EXIT_OK
    k = args.k
    for item in result["per_query"]:
        print(f"  mrr {item['mrr']:.2f}  recall {item['recall']:.2f}  {item['q']}")
    print(
        f"queries: {result['queries']}   MRR@{k} {_with_interval(result, k)}   "
        f"Recall@{k} {result[f'recall@{k}']:.3f}   nDCG@{k} {result[f'ndcg@{k}']:.3f}"
    )
    _print_summary(result, k)
    for half, summary in result.get("halves", {}).items():
        print(f"{half} half: {summary['queries']} queries   MRR@{k} {_with_interval(summary, k)}")
        _print_summary(summary, k)
    if "related_recall@5" in result:
        print(
            f"related: {result['related_items']} items   Recall@5 {result['related_recall@5']:.3f}"
        )
    return EXIT_OK


COMMANDS = [_add_search, _add_related, _add_eval]
