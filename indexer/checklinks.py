"""`recall check-links`: revalidate every listed link, publish the index with the new link
health, and say what changed (newly dead, recovered, still or newly unreachable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from indexer.config import Settings
from indexer.linkhealth import HEALTHS

CHANGE_KINDS = ("newly_dead", "recovered", "newly_unreachable", "still_unreachable")


@dataclass
class CheckReport:
    build_id: str
    checked: int  # links asked over the network in this run
    skipped: int  # links checked more recently than --since-last, or not fetchable
    health: dict[str, int]  # link health -> resources, after the run
    changes: dict[str, list[dict]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def change_kind(before: str | None, after: str) -> str | None:
    """What a change of health means to someone watching the collection, if anything."""
    if after == "dead":
        return "newly_dead" if before != "dead" else None
    if after == "ok":
        return "recovered" if before in ("dead", "unreachable") else None
    if after == "unreachable":
        return "still_unreachable" if before == "unreachable" else "newly_unreachable"
    return None


def _served_health(index_path: Path) -> dict[str, str]:
    from indexer.store import IndexMetadata, IndexProblem

    try:
        reader = IndexMetadata(index_path)
    except IndexProblem:
        return {}
    try:
        return {d["url"]: d.get("link_health") for d in reader.docs if d["kind"] == "resource"}
    finally:
        reader.close()


def check_links(
    settings: Settings,
    sources: list[Path],
    *,
    since_last: float | None = None,
    builder=None,
    progress: bool = False,
) -> CheckReport:
    """Fetch every link not checked within `since_last` seconds (all when None), then
    publish the index built from `sources` and the refreshed cache."""
    from indexer.build import Builder, fetch_pages, maintained
    from indexer.sources.options import ReadOptions
    from indexer.store import IndexMetadata

    if settings.reading == ReadOptions():  # no reading options given: keep the index's own
        settings = maintained(settings)
    before = _served_health(settings.index_dir)
    outcomes = []

    def fetch(resources, settings, **options):
        outcome = fetch_pages(resources, settings, **{**options, "max_age_seconds": since_last})
        outcomes.append(outcome)
        return outcome

    report = (builder or Builder(settings)).build(sources, progress=progress, fetch=fetch)
    checked = outcomes[0].stats["checked"] if outcomes else 0
    reader = IndexMetadata(settings.index_dir)
    try:
        resources = [d for d in reader.docs if d["kind"] == "resource"]
    finally:
        reader.close()
    changes: dict[str, list[dict]] = {kind: [] for kind in CHANGE_KINDS}
    health = dict.fromkeys(HEALTHS, 0)
    for doc in resources:
        after = doc.get("link_health") or "unchecked"
        health[after] += 1
        kind = change_kind(before.get(doc["url"]), after)
        if kind is not None:
            changes[kind].append(
                {
                    "url": doc["url"],
                    "title": doc["title"],
                    "before": before.get(doc["url"]),
                    "after": after,
                    "fetch_status": doc.get("fetch_status"),
                    "last_ok_at": doc.get("last_ok_at"),
                }
            )
    return CheckReport(
        build_id=report.build_id,
        checked=checked,
        skipped=len(resources) - checked,
        health=health,
        changes=changes,
    )
