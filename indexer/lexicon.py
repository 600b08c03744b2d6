"""A query's words read against the index's own words, without Kiwi.

Documents are analysed by Kiwi when the index is built (indexer/morphology.py). A query is
not: loading Kiwi takes 1.3-1.5 s of CPU, more than the rest of a cold search together, and
a query's few words can be read against what the index holds instead. Each Korean word is
cut into a stem the index knows and a chain of particles and endings from a small table
(indexer/data/korean_query_words.tsv): "케라스로" -> 케라스, "예측하는" -> 예측, "팀들의" ->
팀. A stem that Kiwi split into parts when it read the documents ("딥러닝" -> 딥 + 러닝)
gets the same parts, read back from the index's token lists (`compound_parts`); a stem the
index has never seen is cut into known words where it can be ("텐서보드" -> 텐서 + 보드).
Latin words are read exactly as in documents.

Only the index's tokens can match, so this reading is what the keyword ranker needs; how it
compares with Kiwi's own analysis of the same queries is measured in bench/ablation.py.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from indexer.morphology import KOREAN_STOP_STEMS, Term, latin_terms, normalize
from indexer.query import DataFileError, data_rows

WORDS = Path(__file__).parent / "data" / "korean_query_words.tsv"
_CLASSES = ("particle", "ending", "function")
_SYLLABLES = re.compile("[\uac00-\ud7a3]+")
_MAX_SUFFIXES = 4  # particles and endings after one stem ("학습시켜서는": 시켜서 + 는)


@functools.cache
def _table() -> tuple[frozenset[str], frozenset[str]]:
    """(the particle and ending forms, the function words)."""
    suffixes, function = set(), set()
    for form, kind in data_rows(WORDS, 2):
        if kind not in _CLASSES:
            raise DataFileError(f"{WORDS}: {form!r} has class {kind!r}, not one of {_CLASSES}")
        (function if kind == "function" else suffixes).add(form)
    return frozenset(suffixes), frozenset(function)


@functools.cache
def _is_suffix(rest: str, room: int = _MAX_SUFFIXES) -> bool:
    """Whether `rest` is empty or a chain of at most `room` particles and endings."""
    if not rest:
        return True
    suffixes = _table()[0]
    return room > 0 and any(
        rest[:cut] in suffixes and _is_suffix(rest[cut:], room - 1)
        for cut in range(min(len(rest), 5), 0, -1)
    )


def _splittable(word: str) -> bool:
    return len(word) > 1 and bool(_SYLLABLES.fullmatch(word))


def word_spans(tokens: Sequence[str]) -> Iterator[tuple[int, int]]:
    """Each written word of a token list as (its index, the index after its parts):
    `analyse_many` puts a Korean compound right before the parts Kiwi cut it into, each
    found in it in order (시계열 계열; 딥러닝 딥 러닝)."""
    at = 0
    while at < len(tokens):
        word, end, after = tokens[at], 0, at + 1
        if _splittable(word):
            while after < len(tokens) and tokens[after] != word:
                found = word.find(tokens[after], end)
                if found < 0:
                    break
                end, after = found + len(tokens[after]), after + 1
        yield at, after
        at = after


def compound_parts(token_lists: Iterable[Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """The parts Kiwi cut each written Korean compound of the documents into, read back from
    their token lists (`word_spans`). A word read more than once gets the parts it was read
    with most often; a word Kiwi never split gets none."""
    votes: defaultdict[str, Counter] = defaultdict(Counter)
    for tokens in token_lists:
        for at, after in word_spans(tokens):
            if _splittable(tokens[at]):
                votes[tokens[at]][tuple(tokens[at + 1 : after])] += 1
    chosen = {word: count.most_common(1)[0][0] for word, count in votes.items()}
    return {word: parts for word, parts in sorted(chosen.items()) if parts}


def analyse_query(
    text: str, knows: Callable[[str], bool], parts_of: dict[str, tuple[str, ...]]
) -> list[Term]:
    """The terms of a query in reading order: Latin words as documents have them, each
    Korean word as its stem (and the stem's parts) among the index's words; `knows` says
    whether the index holds a token, `parts_of` is `compound_parts` of the index."""
    normalized = normalize(text)
    positioned = [(at, _held_form(term, knows)) for at, term in latin_terms(normalized)]
    for word in _SYLLABLES.finditer(normalized):
        attached = word.start() > 0 and normalized[word.start() - 1].isalnum()
        terms = _word_terms(word.group(), attached, knows, parts_of)
        positioned.extend((word.start(), term) for term in terms)
    return [term for _, term in sorted(positioned, key=lambda item: item[0])]


def _held_form(term: Term, knows: Callable[[str], bool]) -> Term:
    """A Latin word the index does not hold, as its plural or singular where the index holds
    that: a list's "GPUs" is indexed as gpu, a lower-case "gpus" asked is not."""
    if knows(term.token):
        return term
    for other in (term.token[:-1] if term.token.endswith("s") else "", term.token + "s"):
        if other and knows(other):
            return Term(other, term.surface)
    return term


def _word_terms(
    word: str, attached: bool, knows: Callable[[str], bool], parts_of: dict[str, tuple[str, ...]]
) -> list[Term]:
    function = _table()[1]
    if word in function or (attached and _is_suffix(word)):  # "LSTM으로": 으로 is a particle
        return []
    stem = _stem(word, knows)
    if stem in function or stem in KOREAN_STOP_STEMS:
        return []
    parts = parts_of.get(stem, ()) if knows(stem) else _known_pieces(stem, knows)
    # A single-syllable part (딥 of 딥러닝) matches too much to be worth it: the whole counts.
    tokens = [stem, *(part for part in parts if len(part) > 1 and part not in KOREAN_STOP_STEMS)]
    return [Term(token, token if token in word else stem) for token in dict.fromkeys(tokens)]


def _stem(word: str, knows: Callable[[str], bool]) -> str:
    """The longest stem the index knows (or a light verb: 하는, 있는) that leaves particles
    and endings, its last syllable also read without the ending it may hold (위한 -> 위하);
    for a word the index does not know, the stem left by the longest ending that keeps two
    syllables."""
    for cut in range(len(word), 0, -1):
        if not _is_suffix(word[cut:]):
            continue
        for stem in dict.fromkeys((word[:cut], word[: cut - 1] + _without_ending(word[cut - 1]))):
            if knows(stem) or stem in KOREAN_STOP_STEMS:
                return stem
    for cut in range(min(2, len(word)), len(word) + 1):
        if _is_suffix(word[cut:]):
            return word[:cut]
    return word


_JAMO_ENDINGS = (4, 8, 16, 17)  # final ㄴ ㄹ ㅁ ㅂ: 위한 = 위하 + ㄴ, 쓸 = 쓰 + ㄹ
_CONTRACTED = {"해": "하", "돼": "되"}  # 하여, 되어: 통해 = 통하 + 여


def _without_ending(syllable: str) -> str:
    """The last syllable of a verb or adjective with the ending it holds taken out: 한 ->
    하, 해 -> 하; any other syllable as it is."""
    if syllable in _CONTRACTED:
        return _CONTRACTED[syllable]
    code = ord(syllable) - 0xAC00
    if 0 <= code < 11172 and code % 28 in _JAMO_ENDINGS:
        return chr(ord(syllable) - code % 28)
    return syllable


def _known_pieces(stem: str, knows: Callable[[str], bool]) -> tuple[str, ...]:
    """An unknown word cut into the fewest pieces, when it can be cut whole into words the
    index knows and the particles and endings between them (written without spaces:
    "모두의연구소" -> 모두, 연구소); the particles and endings are not kept."""
    suffixes = _table()[0]
    best: list[list[tuple[str, bool]] | None] = [[]] + [None] * len(stem)
    for start in range(len(stem)):
        if best[start] is None:
            continue
        for end in range(start + 1, len(stem) + 1):
            piece = stem[start:end]
            known = piece != stem and knows(piece)
            if known or (start > 0 and piece in suffixes):
                cut = [*best[start], (piece, known)]
                if best[end] is None or len(cut) < len(best[end]):
                    best[end] = cut
    return tuple(piece for piece, known in best[-1] or () if known)
