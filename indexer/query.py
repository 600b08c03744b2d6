"""Query understanding: type words become a resource-kind preference, and machine-learning
terms are bridged between Korean and English with the bundled glossary."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from indexer import morphology
from indexer.morphology import TOKENIZER_NAME, Term, analyse_many

_LOG = logging.getLogger(__name__)
DATA = Path(__file__).parent / "data"
TYPE_WORDS = DATA / "type_words.tsv"
GLOSSARY = DATA / "glossary_ko_en.tsv"
_HANGUL = re.compile("[\uac00-\ud7a3]")


class DataFileError(RuntimeError):
    """A bundled data table is missing or malformed (a broken install)."""


def data_rows(path: Path, columns: int) -> list[list[str]]:
    """The data rows of a tab-separated table: `#` comments and the header line skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataFileError(f"cannot read {path}: {exc}") from exc
    rows = [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != columns:
            raise DataFileError(f"{path}: data row {number} has {len(row)} fields, not {columns}")
    return rows[1:]


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True)
class TypeWords:
    """Which words ask for which kind of resource, and which resource types are that kind."""

    intent_of: dict[str, str]  # folded word -> intent
    types_of: dict[str, frozenset[str]]  # intent -> resource types that satisfy it
    # intent -> (its Latin words as one whole-word pattern, its Korean words)
    patterns: dict[str, tuple[re.Pattern | None, tuple[str, ...]]]

    def intents_in(self, text: str) -> set[str]:
        """The kinds a resource's own words (title, headings, list name) say it is."""
        folded = _fold(text)
        joined = folded.replace(" ", "")
        return {
            intent
            for intent, (latin, korean) in self.patterns.items()
            if (latin is not None and latin.search(folded))
            or any(word.replace(" ", "") in joined for word in korean)
        }


@functools.cache
def type_words() -> TypeWords:
    intent_of: dict[str, str] = {}
    types_of: dict[str, frozenset[str]] = {}
    patterns: dict[str, tuple[re.Pattern | None, tuple[str, ...]]] = {}
    for intent, types, words in data_rows(TYPE_WORDS, 3):
        folded = tuple(_fold(word) for word in words.split("|") if word)
        types_of[intent] = frozenset(t for t in types.split(",") if t)
        latin = [re.escape(word) for word in folded if not _HANGUL.search(word)]
        korean = tuple(word for word in folded if _HANGUL.search(word))
        pattern = re.compile(rf"(?<![\w])(?:{'|'.join(latin)})(?![\w])") if latin else None
        patterns[intent] = (pattern, korean)
        for word in folded:
            intent_of[word] = intent
    return TypeWords(intent_of, types_of, patterns)


@dataclass(frozen=True)
class GlossaryEntry:
    english: tuple[str, ...]
    korean: tuple[str, ...]

    @property
    def variants(self) -> tuple[str, ...]:
        return self.english + self.korean


@functools.cache
def glossary() -> tuple[GlossaryEntry, ...]:
    entries = []
    for english, korean, _source in data_rows(GLOSSARY, 3):
        entries.append(
            GlossaryEntry(
                tuple(_fold(v) for v in english.split("|") if v.strip()),
                tuple(_fold(v) for v in korean.split("|") if v.strip()),
            )
        )
    return tuple(entries)


def variant_tokens(variant: str) -> tuple[str, ...]:
    """A glossary variant as index tokens; none for one the analyser leaves a lone character
    of ("i.i.d." is "d" to the index, "n-그램" is "n", 도커 is 크): it would stand for any
    text that writes that character."""
    tokens = glossary_tokens().get(variant, ())
    return () if len(tokens) == 1 and len(tokens[0]) == 1 else tokens


@functools.cache
def glossary_tokens() -> dict[str, tuple[str, ...]]:
    """Every glossary variant as index tokens, analysed once per glossary and tokenizer and
    kept in the user's cache (and made by every build): a search then never loads Kiwi
    (a second of a cold `recall search`)."""
    from indexer.config import load_settings

    tokenizer = f"{TOKENIZER_NAME}\0{morphology.LATIN_STEMMER}".encode()
    digest = hashlib.sha256(GLOSSARY.read_bytes() + tokenizer).hexdigest()[:16]
    path = load_settings().model_cache_dir / f"glossary-tokens-{digest}.json"
    try:
        return {v: tuple(tokens) for v, tokens in json.loads(path.read_text("utf-8")).items()}
    except (OSError, ValueError, AttributeError):
        pass  # not made yet, or damaged: made again below
    variants = sorted({v for entry in glossary() for v in entry.variants})
    table = {
        v: tuple(t.token for t in terms)
        for v, terms in zip(variants, analyse_many(variants), strict=True)
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:  # a read-only home: analysed again in the next process
        _LOG.info("glossary tokens not cached in %s: %s", path, exc)
    return table


def glossary_phrases() -> list[tuple[str, ...]]:
    """The glossary's terms of several words, as their distinct tokens: an index records
    where each one's words stand together (indexer/lexical.py, phrase_rows)."""
    phrases = (tuple(dict.fromkeys(tokens)) for tokens in glossary_tokens().values())
    return sorted({phrase for phrase in phrases if len(phrase) > 1})


@dataclass(frozen=True)
class Concept:
    """A glossary term the query names: `asked` is the first of the entry's variants (in
    the glossary's order, folded) found in the query, `written` all of them, `shown` the
    term as the query wrote it, and `variants` every variant of the entry (either
    language)."""

    asked: str
    written: frozenset[str]
    variants: tuple[str, ...]
    shown: str

    def token_lists(self) -> list[tuple[str, ...]]:
        """Each variant as index tokens (a resource holding all of one holds the term)."""
        return [tokens for variant in self.variants if (tokens := variant_tokens(variant))]


@dataclass(frozen=True)
class Bridge:
    """A term of the query and its tokens in the other language: a glossary term, or a
    word that the model finds the index's words for (indexer/wordbridge.py, `learned`)."""

    asked: str
    alternatives: tuple[tuple[str, ...], ...]  # token lists of the entry's other variants
    tokens: tuple[str, ...]  # the asked term's own tokens
    learned: bool = False

    def stands_for(self, term: Term) -> bool:
        """Whether the query's `term` is the asked word, or is written as the asked term or a
        part of it, spaces aside: 선형대수 is 선형 대수 written as one word."""
        if self.learned:
            return term.token in self.tokens
        return term.surface.casefold().replace(" ", "") in self.asked.replace(" ", "")


@dataclass
class QueryPlan:
    """What a query asks: topic terms for the keyword ranker, text for the dense ranker,
    the kinds of resource it prefers, and the glossary bridges across languages."""

    text: str
    terms: list[Term]  # every analysed term, for explanations and highlighting
    topic_terms: list[Term]  # terms minus type words
    dense_text: str
    intents: set[str] = field(default_factory=set)
    bridges: list[Bridge] = field(default_factory=list)
    concepts: list[Concept] = field(default_factory=list)  # the glossary terms it names

    @property
    def topic_tokens(self) -> list[str]:
        return list(dict.fromkeys(term.token for term in self.topic_terms))


def one_syllable(token: str) -> bool:
    """A Korean word of one syllable (장, 수, 편, 점): mostly a counter, a bound noun or one
    of many homonyms, so weak evidence of a topic."""
    return len(token) == 1 and bool(_HANGUL.match(token))


def _type_key(term: Term) -> str:
    """How a query's term is looked up among the type words: a Korean one by its stem
    (논문을 -> 논문), a Latin one as written (its stem would make "sliding" a slide)."""
    return _fold(term.token if _HANGUL.search(term.token) else term.surface)


def plan_query(text: str, terms: list[Term], *, strip_dense: bool, bridge: bool) -> QueryPlan:
    """Read type words and glossary terms out of an analysed query.

    A query made only of type words ("논문") keeps them as its topic: there is nothing
    else to search for.
    """
    words = type_words()
    typed = [term for term in terms if _type_key(term) in words.intent_of]
    topic = [term for term in terms if term not in typed] or list(terms)
    intents = {words.intent_of[_type_key(t)] for t in typed} if len(topic) < len(terms) else set()
    dense_text = text
    if strip_dense and intents:
        stripped = text
        for term in typed:
            stripped = re.sub(re.escape(term.surface), " ", stripped, flags=re.IGNORECASE)
        dense_text = " ".join(stripped.split()) or text
    concepts = _concepts(text)  # named even when not bridged: see Searcher._absent_terms
    topic_tokens = {term.token for term in topic}
    bridges = [b for c in concepts if (b := _bridge(c, topic_tokens))] if bridge else []
    return QueryPlan(text, terms, topic, dense_text, intents, bridges, concepts)


@functools.cache
def _latin_variants() -> re.Pattern:
    """Every Latin glossary variant in one whole-word pattern, longest first at each
    position (a query is matched in one pass, not once per variant)."""
    variants = {v for entry in glossary() for v in entry.variants if not _HANGUL.search(v)}
    ordered = sorted(variants, key=lambda v: (-len(v), v))
    # A lookahead consumes nothing, so a term inside a longer one ("neural network" in
    # "recurrent neural network") is found too.
    return re.compile(rf"(?=(?<![\w])({'|'.join(map(re.escape, ordered))})(?![\w]))")


def _found_variants(folded: str) -> set[str]:
    """The glossary variants that occur in folded query text: Latin terms as whole words,
    Korean terms anywhere with spaces ignored (합성곱 신경망 = 합성곱신경망, and particles
    follow)."""
    found = set(_latin_variants().findall(folded))
    joined = folded.replace(" ", "")
    by_first = _korean_variants()
    for first in set(joined).intersection(by_first):
        found.update(v for v, spaceless in by_first[first] if spaceless in joined)
    return found


@functools.cache
def _korean_variants() -> dict[str, tuple[tuple[str, str], ...]]:
    """Each Korean glossary variant and its spaceless form, by the form's first character:
    a query is compared only with the variants that can start in it."""
    by_first: dict[str, list[tuple[str, str]]] = {}
    for entry in glossary():
        for variant in entry.korean:
            if _HANGUL.search(variant):
                spaceless = variant.replace(" ", "")
                by_first.setdefault(spaceless[0], []).append((variant, spaceless))
    return {first: tuple(variants) for first, variants in by_first.items()}


@functools.cache
def _entry_numbers() -> dict[str, int]:
    """Each variant's entry, by its place in the glossary."""
    return {v: number for number, entry in enumerate(glossary()) for v in entry.variants}


def reload_tables() -> None:
    """Forget every table made from the data files (GLOSSARY, TYPE_WORDS) or with the
    tokenizer's settings, so that the next query makes them again (the benchmark measures
    the ranking without some glossary entries, or without stems, this way)."""
    tables = (glossary, glossary_tokens, _latin_variants, _korean_variants, _entry_numbers)
    for table in (*tables, type_words):
        table.cache_clear()


def _concepts(text: str) -> list[Concept]:
    present = _found_variants(_fold(text))
    entries, numbers = glossary(), _entry_numbers()
    concepts = []
    for number in sorted({numbers[v] for v in present}):  # the glossary's order
        variants = entries[number].variants
        written = [v for v in variants if v in present]
        concepts.append(
            Concept(written[0], frozenset(written), variants, _as_written(written, text))
        )
    return concepts


def _as_written(variants: list[str], text: str) -> str:
    """The first of the folded `variants` the query holds letter for letter (any case), as
    it holds it: "NeRF", not "nerf"; a Korean term written without its spaces stays folded."""
    for variant in variants:
        found = re.search(re.escape(variant), text, flags=re.IGNORECASE)
        if found:
            return found.group()
    return variants[0]


def _bridge(concept: Concept, topic_tokens: set[str]) -> Bridge | None:
    """The term's other variants that the query's own words do not already hold."""
    alternatives = tuple(
        tokens
        for variant in concept.variants
        if variant not in concept.written
        for tokens in [variant_tokens(variant)]
        if tokens and not set(tokens) <= topic_tokens
    )
    if not alternatives:
        return None
    return Bridge(concept.asked, tuple(dict.fromkeys(alternatives)), variant_tokens(concept.asked))
