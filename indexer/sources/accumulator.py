"""What every source reader adds to: one parse's resources, merged by normalised URL."""

from __future__ import annotations

from dataclasses import dataclass, field

from indexer.resources import (
    Mention,
    ParseResult,
    ParseWarning,
    Resource,
    normalize_url,
    stable_id,
)
from indexer.sources.links import Link, target_problem


@dataclass
class Accumulator:
    """Merges links by normalised URL across every file of one parse."""

    result: ParseResult = field(default_factory=ParseResult)
    by_url: dict[str, Resource] = field(default_factory=dict)
    # Chat messages already read (room + time + sender + text), so that overlapping
    # exports of one room add each message once.
    seen_messages: set[str] = field(default_factory=set)

    def add(
        self, link: Link, title: str, placeholder: bool, mention: Mention, categories: list[str]
    ) -> Resource:
        problem = target_problem(link.url)
        url = link.url.strip() if problem else normalize_url(link.url)
        resource = self.by_url.get(url)
        if resource is None:
            resource = Resource(
                id=stable_id(url),
                url=url,
                original_urls=[],
                title=title,
                url_status="invalid" if problem else "ok",
                invalid_reason=problem,
                title_is_placeholder=placeholder,
            )
            self.by_url[url] = resource
            self.result.resources.append(resource)
            if problem:
                self.warn(
                    mention.source, mention.line, f"invalid URL {link.url[:200]!r}: {problem}"
                )
        elif resource.title_is_placeholder and not placeholder:
            resource.title, resource.title_is_placeholder = title, False
        if link.url not in resource.original_urls:
            resource.original_urls.append(link.url)
        resource.mentions.append(mention)
        for category in categories:
            if category and category not in resource.categories:
                resource.categories.append(category)
        return resource

    def warn(self, source: str, line: int, message: str) -> None:
        self.result.warnings.append(ParseWarning(source, line, message))


_COMPANION_WINDOW = 10  # a bullet of hundreds of links is a list, not one post


def link_companions(resources: list[Resource]) -> None:
    """Links posted together point at each other (nearest neighbours in long posts)."""
    for position, resource in enumerate(resources):
        nearby = resources[max(0, position - _COMPANION_WINDOW) : position + _COMPANION_WINDOW + 1]
        for other in nearby:
            if other is not resource and other.url not in resource.companions:
                resource.companions.append(other.url)
