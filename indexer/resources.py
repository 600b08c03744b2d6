"""The resource model: resources, mentions, notes, URL normalisation and resource types."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

# --------------------------------------------------------------------------- model


@dataclass
class Mention:
    """One place a list mentions a resource: who, when, where, and what they said."""

    contributor: str | None
    date: str | None  # ISO YYYY-MM-DD
    section: str
    note: str
    source: str
    line: int
    time: str | None = None  # HH:MM, when the source says (chat messages)
    # What others said just before (a chat's conversation): never the contributor's words.
    context: str = ""

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # all plain values


@dataclass
class Resource:
    """One unique link (after normalisation) with everything the lists say about it."""

    id: str
    url: str
    original_urls: list[str]
    title: str
    mentions: list[Mention] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    companions: list[str] = field(default_factory=list)
    url_status: str = "ok"  # "ok" or "invalid"
    invalid_reason: str | None = None
    # True when the lists only gave the URL or a generic word as title, so the
    # fetched page's title should replace it.
    title_is_placeholder: bool = False

    @property
    def type(self) -> str:
        return resource_type(self.url, self.title)

    @property
    def domain(self) -> str:
        return url_domain(self.url)

    @property
    def contributors(self) -> list[str]:
        return _unique(m.contributor for m in self.mentions if m.contributor)

    @property
    def dates(self) -> list[str]:
        return sorted(_unique(m.date for m in self.mentions if m.date))

    def to_dict(self) -> dict:
        # Field by field: dataclasses.asdict deep-copies every value, a third of a rebuild.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["original_urls"] = list(self.original_urls)
        data["mentions"] = [m.to_dict() for m in self.mentions]
        data["categories"] = list(self.categories)
        data["companions"] = list(self.companions)
        data["type"] = self.type
        data["domain"] = self.domain
        return data


@dataclass
class Note:
    """A section of a list that holds no link: searchable on its own."""

    id: str
    section: str
    contributor: str | None
    date: str | None
    text: str
    source: str
    line: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ParseWarning:
    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SourceFile:
    """What one input file held: which reader read it, and its counts."""

    path: str
    reader: str  # "markdown", a chat export format ("kakao-pc", …) or "skipped"
    messages: int = 0  # chat messages kept (system lines and excluded members left out)
    duplicates: int = 0  # messages with links already read from another export of the room
    links: int = 0  # mentions the file gave
    members: int = 0  # distinct contributors (senders of a chat)
    first_date: str | None = None
    last_date: str | None = None

    def __str__(self) -> str:
        parts = [self.reader]
        if self.reader.startswith("kakao"):
            parts.append(f"{self.messages} messages")
        parts += [f"{self.links} links", f"{self.members} contributors"]
        parts.append(f"{self.first_date} ~ {self.last_date}" if self.first_date else "no dates")
        if self.duplicates:
            parts.append(f"{self.duplicates} messages already read from another export")
        return f"{self.path}: " + ", ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ParseResult:
    resources: list[Resource] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "resources": [r.to_dict() for r in self.resources],
            "notes": [n.to_dict() for n in self.notes],
            "warnings": [w.to_dict() for w in self.warnings],
            "files": [f.to_dict() for f in self.files],
        }


def _unique(items) -> list:
    return list(dict.fromkeys(items))


def stable_id(text: str) -> str:
    """A short id that stays the same across builds for the same input."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


# ------------------------------------------------------------------ URL handling

# youtu.be/ID, youtube.com/watch?v=ID with v= anywhere in the query (the mobile share
# button writes watch?feature=youtu.be&v=ID), /shorts/ID and /embed/ID.
_YOUTUBE_VIDEO = re.compile(
    r"https?://(?:www\.|m\.)?(?:youtu\.be/|youtube\.com/(?:watch\?(?:[^#]*?&)?v=|shorts/|embed/))"
    r"([\w-]+)"
)

_WHITESPACE = re.compile(r"\s")
_TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid"}
FETCHABLE_SCHEMES = ("http", "https")


def _is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_PARAMS or lowered.startswith("utm_")


@functools.lru_cache(maxsize=65536)  # a chat posts the same links again and again
def normalize_url(url: str) -> str:
    """Canonical form used as a resource's identity.

    Lower-cases scheme and host, drops the fragment, default ports and tracking
    parameters, and keeps every other parameter in its order. youtu.be and
    youtube.com/watch?v= stay distinct on purpose: both forms carry the same
    video but the lists treat them as separate posts, and merging them would
    make one post's note silently describe another.
    Idempotent: normalize_url(normalize_url(u)) == normalize_url(u).
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in FETCHABLE_SCHEMES:
        return url
    try:
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return url
    if not host:  # not a web address: "http:////" came back as "http://", then "http:///"
        return url
    if not host.isascii():  # IDNA leaves an ASCII host as it is
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    host = host.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += ":" + parts.password
        netloc = f"{userinfo}@{netloc}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~-._")
    kept = [
        pair
        for pair in parts.query.split("&")
        if pair and not _is_tracking_param(unquote_plus(pair.partition("=")[0]))
    ]
    query = quote("&".join(kept), safe="/?:@!$&'()*+,;=~-._%")
    return urlunsplit((scheme, netloc, path, query, ""))


def duplicate_key(url: str) -> str:
    """URLs that name the same page (http/https, www, trailing slash, youtu.be)."""
    if not url:
        return ""
    url = normalize_url(url)
    match = _YOUTUBE_VIDEO.match(url)
    if match:
        return "youtube:" + match[1]
    return re.sub(r"^https?://(www\.)?", "", url).rstrip("/")


def url_problem(url: str) -> str | None:
    """Why a URL cannot be fetched, or None when it looks fetchable."""
    if not url:
        return "empty URL"
    if "…" in url or url.endswith("..."):
        return "truncated URL (contains …)"
    if _WHITESPACE.search(url):
        return "URL contains whitespace"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"malformed URL ({exc})"
    scheme = parts.scheme.lower()
    if scheme not in FETCHABLE_SCHEMES:
        return f"unsupported scheme '{scheme or '(none)'}:'"
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"malformed URL ({exc})"
    if not host or ("." not in host and host != "localhost" and ":" not in host):
        return "URL has no valid host"
    return None


def url_domain(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.").removeprefix("m.")


# Hosts whose pictures are status badges (stars, build, version): decoration, not a resource
_BADGE_HOSTS = frozenset(
    {
        "img.shields.io",
        "shields.io",
        "badgen.net",
        "badge.fury.io",
        "travis-ci.org",
        "travis-ci.com",
        "api.travis-ci.org",
        "circleci.com",
        "codecov.io",
        "coveralls.io",
        "awesome.re",
        "badges.gitter.im",
        "pepy.tech",
        "api.codacy.com",
        "app.codacy.com",
    }
)


def is_badge(url: str) -> bool:
    """Whether a picture at `url` is a status badge: a badge host's, or one whose path says
    badge (a workflow's badge.svg, colab-badge.svg, readthedocs' /badge/)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return url_domain(url.strip()) in _BADGE_HOSTS or "badge" in parts.path.lower()


_TYPE_BY_DOMAIN = {
    "paper": (
        "arxiv.org",
        "openreview.net",
        "aclanthology.org",
        "aclweb.org",
        "papers.nips.cc",
        "proceedings.neurips.cc",
        "proceedings.mlr.press",
        "openaccess.thecvf.com",
        "dl.acm.org",
        "ieeexplore.ieee.org",
        "semanticscholar.org",
        "scirate.com",
        "paperswithcode.com",
        "biorxiv.org",
        "jmlr.org",
        "researchgate.net",
    ),
    "repo": ("github.com", "gitlab.com", "bitbucket.org", "gist.github.com", "huggingface.co"),
    "video": ("youtube.com", "youtu.be", "vimeo.com", "tv.naver.com", "videolectures.net"),
    "book": (
        "yes24.com",
        "aladin.co.kr",
        "kyobobook.co.kr",
        "amazon.com",
        "oreilly.com",
        "manning.com",
        "hanbit.co.kr",
        "wikibook.co.kr",
        "gilbut.co.kr",
        "books.google.com",
    ),
}


def resource_type(url: str, title: str = "") -> str:
    """paper, repo, video, book, pdf, article or other, guessed from the URL."""
    domain = url_domain(url)
    try:
        path = urlsplit(url).path.lower()
    except ValueError:
        return "other"
    for kind, domains in _TYPE_BY_DOMAIN.items():
        if any(domain == d or domain.endswith("." + d) for d in domains):
            return kind
    if PurePosixPath(path).suffix == ".pdf":
        return "pdf"
    if not domain:
        return "other"
    return "article"


# --------------------------------------------------------------------------- records


@functools.lru_cache(maxsize=4096)  # one per list file; asked once per mention
def list_name(source: str) -> str:
    """A list file's name as words: "38_Caffe.md" -> "Caffe", "keras-open-chat" -> "keras
    open chat" (collections are often one file per topic)."""
    stem = Path(source).stem
    return " ".join(re.sub(r"^[\d\s._-]+", "", stem).replace("_", " ").replace("-", " ").split())


def filed_under(doc: dict, several_lists: bool) -> list[str]:
    """Where the lists file a record, for the reader, each once: the names of its lists
    (when the collection has several) and its headings. A bookmark whose link text is
    "논문" or "GitHub" says little without "Generative Adversarial Network · Implementation"."""
    names = _list_names(doc) if several_lists else []
    return list(dict.fromkeys(name for name in [*names, *doc["categories"]] if name))


def headings(doc: dict) -> list[str]:
    """What a record is filed under: its categories, sections and the names of its lists."""
    return [*doc["categories"], *doc.get("sections", []), *_list_names(doc)]


def _list_names(doc: dict) -> list[str]:
    """The name of the list of each of a record's mentions that came from one."""
    return [list_name(m["source"]) for m in doc["mentions"] if m.get("source")]
