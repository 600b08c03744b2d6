"""The list writer on the dev corpus: every list written back in the sample list's shape (each
grouping) must parse to the same mentions (URL, contributor, date, note) and notes.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/list_roundtrip.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from indexer.listwriter import entries_from_records, write_list  # noqa: E402
from indexer.sources.files import parse_sources  # noqa: E402
from indexer.sources.markdown import parse_text  # noqa: E402

DEV_CORPUS = ROOT.parent / "shared" / "dev-corpus" / "adioshun-links"
SAMPLE = ROOT / "data" / "keras-open-chat.md"


def said(result) -> tuple[list, list]:
    mentions = [
        (r.url, m.contributor, m.date, m.note) for r in result.resources for m in r.mentions
    ]
    return sorted(mentions), sorted((n.contributor, n.date, n.text) for n in result.notes)


def main() -> int:
    if not DEV_CORPUS.is_dir():
        print(f"skipped: no dev corpus at {DEV_CORPUS}")
        return 0
    first = parse_sources([DEV_CORPUS, SAMPLE])
    entries, left_out = entries_from_records(
        [r.to_dict() for r in first.resources], [n.to_dict() for n in first.notes]
    )
    expected = said(first)
    print(
        f"{len(first.files)} lists, {len(first.resources):,} resources, "
        f"{len(expected[0]):,} mentions, {len(expected[1]):,} notes, {left_out} left out"
    )
    print("\n| grouping | posts | seconds | mentions kept | notes kept |")
    print("| --- | --- | --- | --- | --- |")
    failed = False
    for group_by in (None, "date", "contributor", "topic"):
        clock = time.perf_counter()
        again = said(parse_text(write_list(entries, group_by, left_out=left_out), "list.md"))
        seconds = time.perf_counter() - clock
        kept = [again[i] == expected[i] for i in (0, 1)]
        failed |= not all(kept)
        print(
            f"| {group_by or 'none'} | {len(entries):,} | {seconds:.2f} | {kept[0]} | {kept[1]} |"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
