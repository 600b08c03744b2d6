"""Ranking ablation and calibration on the labelled sets, half by half.

Builds (once, offline) an index of the sample list, of the adioshun lists, and of both
together (the collection scenario: the sample list's queries inside the big collection),
then scores ranking variants one change at a time. A change of how the index is built is
scored on indexes built both ways (the rows above it on the earlier build). Every setting
is chosen on the tuning half; the report half is what BENCHMARKS.md shows.

    .venv/bin/python bench/ablation.py [--calibrate] [--write]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import common
import subcollections
from calibration import STRONG_TARGET, TOLD_TARGET, calibrate

from indexer import build, chunk, morphology, query
from indexer.config import DEFAULT_MODEL
from indexer.embed import load_embedder
from indexer.evaluate import RESAMPLES, EvalSet, Ranked, evaluate
from indexer.morphology import analyse_many
from indexer.rank import CALIBRATION, Ranking, load_calibration
from indexer.search import Searcher
from indexer.wordbridge import BLANK_LIKENESS, MUTUAL_MARGIN, NEAREST, WORD_SIMILARITY

WORK = common.OUT / "ablation"
HANGUL = re.compile("[\uac00-\ud7a3]")
# One change at a time, each on top of the rows above it ("+"), from the previous default.
BEFORE = {
    "fusion": "convex",
    "dense_weight": 0.8,
    "bridge": False,
    "intent_boost": 0.0,
    "thin_discount": 0.0,
    "coverage_weight": 0.0,
    "related_keyword_weight": 0.0,
    "related_fields": ("title", "headings"),
    "kiwi_queries": True,
    "coverage_idf": False,
    "coverage_share_weight": 0.0,
    "bridge_weight": 0.6,
    "bridge_once": False,
    "one_syllable_weight": 1.0,
    "word_bridges": False,
    "field_weights": {name: 1.0 for name in Ranking().field_weights},
}
ZSCORE = {"fusion": "zscore", "dense_weight": Ranking().dense_weight}
ONCE = {"bridge_weight": Ranking().bridge_weight, "bridge_once": True}
STEPS = (  # (label, change, kept)
    ("before: raw-score convex fusion, one keyword field", BEFORE, True),
    ("+ field-aware keyword scoring", {"field_weights": Ranking().field_weights}, True),
    ("(not kept) min-max instead of z-scores", {"fusion": "minmax", "dense_weight": 0.6}, False),
    ("+ fusion on per-query z-scores", ZSCORE, True),
    ("+ query-word coverage in the fusion", {"coverage_weight": Ranking().coverage_weight}, True),
    ("+ query intent (type words)", {"intent_boost": Ranking().intent_boost}, True),
    ("(not kept) type words also out of the dense query", {"strip_dense": True}, False),
    (f"+ Korean–English glossary ({len(query.glossary())} entries)", {"bridge": True}, True),
    ("+ thin-resource discount", {"thin_discount": Ranking().thin_discount}, True),
    ("(not kept) fused similarity of keyword-only resources", {"estimate_unseen": True}, False),
    (
        "+ related: shared title and heading words, fused with similarity on z-scores",
        {"related_keyword_weight": Ranking().related_keyword_weight},
        True,
    ),
    ("+ queries read against the index's words, not by Kiwi", {"kiwi_queries": False}, True),
    ("+ coverage counts each query word by its rarity", {"coverage_idf": True}, True),
    ("(not kept) coverage weighed 0.6, not 0.4", {"coverage_weight": 0.6}, False),
    ("+ a glossary term counts once, in the language that scores more", ONCE, True),
    ("+ related: title words only", {"related_fields": Ranking().related_fields}, True),
    ("(not kept) one-syllable Korean query words left out", {"one_syllable_weight": 0.0}, False),
    (
        "+ one-syllable Korean query words (장, 수, 짜) count a quarter",
        {"one_syllable_weight": Ranking().one_syllable_weight},
        True,
    ),
    (
        "+ coverage counts as its share too, not only as a z-score",
        {"coverage_share_weight": Ranking().coverage_share_weight},
        True,
    ),
    (
        f"+ word bridges: a query word no glossary term covers counts as its {NEAREST} "
        f"closest words of the other script in the index (model cosine ≥ "
        f"{WORD_SIMILARITY[DEFAULT_MODEL]}, mutual within {MUTUAL_MARGIN}, neither word "
        f"≥ {BLANK_LIKENESS[DEFAULT_MODEL]} close to the model's vector of no text)",
        {"word_bridges": True},
        True,
    ),
)
COLUMNS = ("all", "lang=ko", "lang=en", "kind=cross", "type=any")


def no_glossary_phrases() -> list[tuple[str, ...]]:
    """As builds were before they recorded where the glossary's terms stand: none sought,
    so a term of several words is held wherever all its words are."""
    return []


# Changes of the build or of the tokens, each scored on indexes built as before it (newest
# last), its old value kept while they are searched: the ranking steps above are scored on
# the earliest build. (label, module, constant, before)
BUILD_STEPS = (
    (
        f"+ profile passages hold {chunk.PROFILE_NOTE_WORDS} words of notes, not {{before}} "
        "(the rest in note passages)",
        chunk,
        "PROFILE_NOTE_WORDS",
        180,
    ),
    (
        "+ Latin words as their English stems (Snowball: networks, network → network)",
        morphology,
        "LATIN_STEMMER",
        None,
    ),
    (
        "+ a glossary term of several words holds where they stand together, not anywhere "
        "in the resource",
        build,
        "glossary_phrases",
        no_glossary_phrases,
    ),
)


@dataclass
class Scenario:
    name: str
    index: Path
    eval_set: EvalSet


def _collection_set(seed: EvalSet) -> EvalSet:
    queries = [{**q, "rel": [*q["rel"], *q.get("rel_collection", [])]} for q in seed.queries]
    return EvalSet(queries, seed.related)


def scenarios(embedder, work: Path = WORK) -> list[Scenario]:
    """The sample list, the adioshun lists, and the sample list inside the adioshun lists,
    indexed in `work`."""
    found = {}
    for corpus in common.corpora():
        reason = corpus.missing()
        if reason:
            print(reason, file=sys.stderr)
            continue
        found[corpus.name] = corpus
    result = []
    for name, corpus in found.items():
        index = work / name / "index"
        # Built again only when the lists or the indexer changed (a no-change build: 0.02 s).
        common.build_index(corpus, index, DEFAULT_MODEL, embedder, full=False)
        result.append(Scenario(name, index, corpus.eval_set()))
    if {"keras-seed", "adioshun"} <= set(found):
        both = common.Corpus(
            "collection",
            (*found["keras-seed"].sources, *found["adioshun"].sources),
            found["keras-seed"].eval_path,
        )
        index = work / "collection" / "index"
        common.build_index(both, index, DEFAULT_MODEL, embedder, full=False)
        seed_set = found["keras-seed"].eval_set()
        result.append(Scenario("collection", index, _collection_set(seed_set)))
    return result


def score(searcher: Searcher, eval_set: EvalSet, ranking: Ranking, mode: str = "hybrid") -> dict:
    searcher.ranking = ranking

    def rank(query: str, k: int) -> Ranked:
        response = searcher.search(query, k=k, mode=mode)
        return Ranked(
            [hit.url for hit in response.results],
            [hit.weak for hit in response.results],
            response.no_close_match,
        )

    def related(ref: str, k: int) -> list[str]:
        try:
            return [hit.url for hit in searcher.related(ref, k)]
        except KeyError:
            return []

    return evaluate(eval_set, rank, related, k=common.K)


def _row(results: dict[str, dict], half: str) -> dict[str, float]:
    """MRR@10 on one half: the adioshun set by split, the seed set, the collection."""
    row = {}
    adioshun = results.get("adioshun", {}).get("halves", {}).get(half)
    if adioshun:
        row["all"] = adioshun[f"mrr@{common.K}"]
        for split in COLUMNS[1:]:
            row[split] = adioshun["splits"].get(split, {}).get(f"mrr@{common.K}", float("nan"))
    for name in ("keras-seed", "collection"):
        summary = results.get(name, {}).get("halves", {}).get(half)
        if summary:
            row[name] = summary[f"mrr@{common.K}"]
    return row


def ablation(opened: list[tuple[Scenario, Searcher]], embedder) -> list[tuple[str, dict]]:
    """Each step's evaluation results per scenario (both halves in each): the ranking steps
    on indexes built as before every build step, then each build step's default ranking
    on indexes built with it (and with the build steps after it undone)."""
    undo = [
        mock.patch.object(module, constant, before) for _, module, constant, before in BUILD_STEPS
    ]
    builds = [opened]  # builds[i]: with the build steps from i on undone; the last, none
    undone = []  # the patches in force, latest last
    try:
        for step in reversed(range(len(BUILD_STEPS))):
            _switch(undo[step].start)
            undone.append(undo[step])
            # Named by what it undoes: the offline fingerprint does not see a patched value.
            name = "+".join(
                f"{constant}={getattr(before, '__name__', before)}"
                for _, _, constant, before in BUILD_STEPS[step:]
            )
            built = scenarios(embedder, WORK / name)
            builds.insert(0, [(s, Searcher.open(s.index, embedder)) for s in built])
        steps, options = [], {}
        for label, change, kept in STEPS:
            if kept:
                options.update(change)
            ranking = Ranking().with_options(**{**options, **change})
            steps.append((label, _scored(builds[0], ranking)))
        for step, (label, _, _, before) in enumerate(BUILD_STEPS):
            _switch(undone.pop().stop)  # the earliest step's patch, started last
            steps.append((label.format(before=before), _scored(builds[step + 1], Ranking())))
    finally:
        while undone:
            undone.pop().stop()
        query.reload_tables()
    for label, results in steps:
        print(label, _row(results, "tune"), file=sys.stderr)
    return steps


def _switch(change) -> None:
    """Apply or undo one build step's patch; the query tables made with the other value
    are made again."""
    change()
    query.reload_tables()


def _scored(opened: list[tuple[Scenario, Searcher]], ranking: Ranking) -> dict:
    return {s.name: score(searcher, s.eval_set, ranking) for s, searcher in opened}


def markdown(steps: list[tuple[str, dict]], half: str) -> str:
    names = ["all", "lang=ko", "lang=en", "kind=cross", "type=any", "keras-seed", "collection"]
    heads = ["adioshun", "Korean", "English", "cross-language", "topic+type", "sample list",
             "collection"]  # fmt: skip
    lines = [
        "| change | " + " | ".join(heads) + " | related R@5 |",
        "|---|" + "---|" * (len(heads) + 1),
    ]
    for label, results in steps:
        row = _row(results, half)
        cells = [f"{row[name]:.3f}" if name in row else "–" for name in names]
        related = results.get("adioshun", {}).get("related_halves", {}).get(half, {})
        cells.append(f"{related['related_recall@5']:.3f}" if related else "–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sampling_error(results: dict, half: str) -> str:
    """The default's MRR@10 on `half` per scenario with its 95% bootstrap interval over the
    answerable queries (indexer.evaluate.interval)."""
    sets = {"adioshun": "adioshun", "keras-seed": "sample list", "collection": "collection"}
    parts = []
    for name, label in sets.items():
        summary = results.get(name, {}).get("halves", {}).get(half)
        if summary and summary[f"mrr@{common.K}_interval"]:
            low, high = summary[f"mrr@{common.K}_interval"]
            parts.append(
                f"{label} {summary[f'mrr@{common.K}']:.3f} ({low:.2f}–{high:.2f}, "
                f"{summary['queries']} queries)"
            )
    return "; ".join(parts)


def confidence_lines(results: dict, half: str, prefix: str = "") -> list[str]:
    """A confidence row for each scenario but the collection, its set named after `prefix`."""
    lines = []
    for name, result in results.items():
        summary = result.get("halves", {}).get(half, {}).get("confidence")
        if not summary or name == "collection":
            continue
        told, strong = summary["no_close_match_share"], summary["first_relevant_not_weak_share"]
        unanswerable, judged = summary["unanswerable"], summary["answerable_judged"]
        lines.append(_confidence_row(prefix + name, unanswerable, told, judged, strong))
    return lines


def _confidence_row(
    name: str, unanswerable: int, told: float | None, judged: int, strong: float | None
) -> str:
    return (
        f"| {name} | {unanswerable} | {_share(told, unanswerable)} | {judged} | "
        f"{_share(strong, judged)} |"
    )


def _share(share: float | None, of: int) -> str:
    """ "95% (96)": the share and how many queries it is."""
    return "–" if share is None else f"{share:.0%} ({round(share * of)})"


def section(
    steps: list[tuple[str, dict]],
    calibration: dict | None,
    agreement: str,
    warned: str,
    subsets: list[str],
    subset_ranking: str,
) -> str:
    counts = {s: r["queries"] for s, r in steps[-1][1].items()}
    final = next(results for (label, results) in reversed(steps) if "(not kept)" not in label)
    parts = [
        "## Ranking ablation (bench/ablation.py)",
        "",
        "Written by `.venv/bin/python bench/ablation.py --calibrate --write` (kept by `make "
        "bench`). Offline indexes (lists only, no page text) of the sample list, the adioshun "
        "lists, and both together (*collection*: the sample list's queries inside the whole dev "
        "corpus, with `rel_collection` answers counted). Queries split once by a hash of their "
        "id into a tuning half and a report half (`split` in bench/data/*.json); every weight "
        "and threshold was chosen on the tuning half. A third set, held out, came later (below). "
        "Answerable queries per scenario, all three together: "
        + ", ".join(f"{name} {n}" for name, n in counts.items())
        + ". Each change is added to the rows above it; a row marked (not kept) was tried on "
        "top of the rows above it and dropped; the last kept row is Recall's default. A change "
        "of the build (the last rows) is scored on indexes built with it, the rows above it on "
        "indexes built without it.",
        "",
        "**Report half** (MRR@10; related Recall@5 on the adioshun set):",
        "",
        markdown(steps, "report"),
        "",
        "The default's report half with a 95% bootstrap interval over its queries "
        f"({RESAMPLES:,} resamples): " + sampling_error(final, "report") + ". A difference "
        "between two rows is measured on the same queries and is surer than these intervals "
        "suggest; a target missed by less than its interval's half-width may be met on "
        "another set of questions, and one met by as little may be missed.",
        "",
        "Tuning half, for reference:",
        "",
        markdown(steps, "tune"),
        "",
        "**Held-out set** (`split` = `fresh`, written on 2026-12-03, after every setting "
        "above was chosen, by a helper who read only the lists and never saw Recall's answers "
        "or the other queries; nothing was chosen on it and no other figure here counts it):",
        "",
        markdown(steps, "fresh"),
        "",
        f"The default on it: {sampling_error(final, 'fresh')}.",
        "",
        "Confidence of the default on the report half (weak = calibrated P(relevant) below the "
        "threshold; `no_close_match` = every hit weak). The sub-collections are random draws "
        "of the adioshun lists' files, collections of other sizes that nothing was tuned on: "
        "a query is answerable in one when one of its answers is there, unanswerable when "
        "none is (another resource there may still answer it, so their told share is a lower "
        "bound):",
        "",
        '| set | unanswerable queries | told "no close match" | answerable judged | first '
        "relevant hit not weak |",
        "|---|---|---|---|---|",
        *confidence_lines(final, "report"),
        *subsets,
        *confidence_lines(final, "fresh", "held-out: "),
        "",
        "MRR@10 in the same sub-collections, each size's draws pooled (every answerable query "
        "of every draw counted once), report half (tuning half in brackets): the default "
        "against the first row's ranking and against each ranker alone (none of it was tuned "
        "on these collections):",
        "",
        subset_ranking,
    ]
    parts += ["", warned, "", agreement]
    if calibration:
        parts += [
            "",
            "Calibration (tuning half, use-multilingual): P(relevant) = σ("
            f"{calibration['intercept']} + {calibration['dense']}·similarity + "
            f"{calibration['coverage']}·coverage {'-' if calibration['absent'] < 0 else '+'} "
            f"{abs(calibration['absent'])}·absent), where absent is, when the question names "
            "a glossary term that no resource holds in any of its variants, the share of the "
            "glossary's entries that the collection holds, and 0 otherwise; "
            f"weak below {calibration['threshold']}, the threshold that comes "
            f"closest to both targets ({STRONG_TARGET:.0%} of the first relevant hits strong, "
            f"{TOLD_TARGET:.0%} of the unanswerable questions told) on the tuning half, where "
            f"it keeps {calibration['tune_first_relevant_not_weak']:.0%} of the first relevant "
            f"hits strong and tells {calibration['tune_no_close_match_share']:.0%} of the "
            "unanswerable questions.",
        ]
    return "\n".join(parts)


def sub_collection_lines(subsets: dict[int, list]) -> list[str]:
    """The confidence rows of the sub-collections (bench/subcollections.py), each size's
    draws pooled."""
    lines = []
    for size, draws in subsets.items():
        summaries = [
            score(searcher, eval_set, Ranking())["halves"]["report"]["confidence"]
            for _, eval_set, searcher in draws
        ]
        unanswerable, told, judged, strong = subcollections.pooled(summaries)
        sizes = sorted(len(searcher.docs) for _, _, searcher in draws)
        name = (
            f"adioshun, {size} of its files ({len(draws)} draws, {sizes[0]}–{sizes[-1]} resources)"
        )
        lines.append(_confidence_row(name, unanswerable, told, judged, strong))
    return lines


def sub_collection_ranking(subsets: dict[int, list]) -> str:
    """The MRR@10 table of the sub-collections: the default, the first ablation row's
    ranking, and the default's dense and keyword rankers alone."""
    before = Ranking().with_options(**BEFORE)
    rankers = {
        "default (hybrid)": lambda searcher, eval_set: score(searcher, eval_set, Ranking()),
        "before (the first row)": lambda searcher, eval_set: score(searcher, eval_set, before),
        "dense only": lambda searcher, eval_set: score(searcher, eval_set, Ranking(), mode="dense"),
        "keywords only": lambda searcher, eval_set: score(
            searcher, eval_set, Ranking(), mode="lexical"
        ),
    }
    return subcollections.mrr_table(subsets, rankers)


WARNING_KEY = "misses"  # the glossary's source key for terms named after missed questions


@contextlib.contextmanager
def glossary_without(source_key: str):
    """Queries read with the glossary minus the entries citing `source_key`; yields how many
    were left out."""
    rows = query.GLOSSARY.read_text(encoding="utf-8").splitlines()
    kept = [
        row
        for row in rows
        if row.startswith("#") or source_key not in row.split("\t")[-1].split(",")
    ]
    path = WORK / f"glossary-without-{source_key}.tsv"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    original, query.GLOSSARY = query.GLOSSARY, path
    query.reload_tables()
    try:
        yield len(rows) - len(kept)
    finally:
        query.GLOSSARY = original
        query.reload_tables()


def without_warned_entries(opened) -> str:
    """The default's report half without the glossary entries that were named after
    evaluation misses: the figures that owe nothing to them."""
    with glossary_without(WARNING_KEY) as removed:
        results = {s.name: score(searcher, s.eval_set, Ranking()) for s, searcher in opened}
    row = _row(results, "report")
    figures = ", ".join(
        f"{name} {row[key]:.3f}"
        for name, key in (("adioshun", "all"), ("Korean", "lang=ko"), ("English", "lang=en"),
                          ("sample list", "keras-seed"), ("collection", "collection"))
        if key in row
    )  # fmt: skip
    return (
        f"Without the {removed} glossary entries whose source says `{WARNING_KEY}` (terms named "
        "for the glossary after a question using them was missed here), the default's report "
        f"half is: {figures}. Where these differ from the last kept row, the difference is owed "
        "to those entries and is not evidence for collections nobody has seen."
    )


def reading_agreement(opened) -> str:
    """The query reader (indexer/lexicon.py) against Kiwi, on the Korean titles and notes of
    the collection read as questions: of the tokens of two syllables or more that the index
    holds, the share of Kiwi's the reader finds too, and the share of the reader's Kiwi gives."""
    searcher = next(searcher for scenario, searcher in opened if scenario.name == "collection")
    lexical = searcher.reader.lexical
    texts = [
        text
        for doc in searcher.docs
        for text in dict.fromkeys([doc["title"], *(m["note"] for m in doc["mentions"])])
        if len(HANGUL.findall(text)) >= 4
    ]
    texts = list(dict.fromkeys(texts))

    def matchable(terms) -> set[str]:
        return {
            t.token
            for t in terms
            if len(t.token) > 1 and HANGUL.search(t.token) and lexical.knows(t.token)
        }

    both = kiwi_total = reader_total = same = 0
    for text, terms in zip(texts, analyse_many(texts), strict=True):
        kiwi, reader = matchable(terms), matchable(lexical.analyse_query(text))
        both, same = both + len(kiwi & reader), same + (kiwi == reader)
        kiwi_total, reader_total = kiwi_total + len(kiwi), reader_total + len(reader)
    return (
        f"Queries are read against the index's words, not by Kiwi. Read that way, {len(texts)} "
        "Korean titles and notes of the collection (as if they were questions) give "
        f"{both / kiwi_total:.1%} of the tokens Kiwi gives them that can match (held by the "
        f"index, two syllables or more), and {both / reader_total:.1%} of the reader's such "
        f"tokens are Kiwi's; {same / len(texts):.0%} of the texts get exactly Kiwi's."
    )


# ------------------------------------------------------------------ calibration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calibrate", action="store_true", help="refit the weak-hit threshold")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    embedder = load_embedder(DEFAULT_MODEL)
    opened = [(s, Searcher.open(s.index, embedder)) for s in scenarios(embedder)]
    table = json.loads(CALIBRATION.read_text()) if CALIBRATION.exists() else {"models": {}}
    if args.calibrate:
        table["models"][DEFAULT_MODEL] = calibrate(opened, Ranking())
        table["source"] = "bench/ablation.py --calibrate, tuning half of bench/data/*.json"
        CALIBRATION.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
        for _, searcher in opened:
            searcher.calibration = load_calibration(DEFAULT_MODEL)
    steps = ablation(opened, embedder)
    subsets = subcollections.draws(embedder, WORK / "sub-collections")
    text = section(
        steps,
        table["models"].get(DEFAULT_MODEL),
        reading_agreement(opened),
        without_warned_entries(opened),
        sub_collection_lines(subsets),
        sub_collection_ranking(subsets),
    )
    print(text)
    if args.write:
        common.write_kept_block(common.ROOT / "BENCHMARKS.md", "ranking", text)


if __name__ == "__main__":
    main()
