"""Korean-aware text analysis: Kiwi morphemes and written compounds, Latin words, stopwords."""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import re
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from indexer.hits import INVISIBLE

if TYPE_CHECKING:  # kiwipiepy is imported where Kiwi is loaded: a helper's user never does
    from kiwipiepy import Kiwi, Token

# Content morphemes: general and proper nouns, numerals, verb and adjective stems, roots.
# Dependent nouns (NNB: 것, 수, 년) and function morphemes (particles, endings) are dropped.
_CONTENT_TAGS = frozenset({"NNG", "NNP", "NR", "VV", "VA", "XR"})
# Morphemes Kiwi may cut a written compound into (시계열 -> 시/NNB + 계열/NNG, 대학원생 ->
# 대학원/NNG + 생/XSN).
_NOUN_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "XPN", "XSN"})
# Light verbs and copula-like stems that occur in nearly every Korean sentence.
KOREAN_STOP_STEMS = frozenset({"하", "되", "있", "없", "같", "않"})
# fmt: off
_ENGLISH_STOPWORDS = frozenset({
    "a", "about", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "but",
    "by", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her",
    "his", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of",
    "on", "or", "our", "out", "s", "she", "so", "such", "t", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "too", "us", "very", "via",
    "was", "we", "were", "what", "when", "where", "which", "who", "why", "will", "with", "would",
    "you", "your",
})
# fmt: on
_HANGUL_SYLLABLE = re.compile("[\uac00-\ud7a3]")
# Letters and digits of any script but Hangul (syllables and jamo, which Kiwi reads),
# keeping "c++" and "c#" apart from "c".
_HANGUL = "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7a3\ud7b0-\ud7ff"
_WORD = re.compile(rf"[^\W_{_HANGUL}]+(?:\+\+|#)?")
# Full-width forms to ASCII, and line breaks and tabs to spaces (most texts are then
# printable, which skips the character-by-character pass of `normalize`).
_PLAIN_FORMS = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_PLAIN_FORMS.update({ord(char): " " for char in "\t\n\r"})
# "ㅋㅋㅋㅋㅋ", "!!!!!!", "가가가가…": no word repeats a character four times, and long
# repeats are the input Kiwi is slowest on. Digits are exempt (1000000).
_REPEAT = re.compile(r"(\D)\1{3,}")
# Kiwi's cost grows with unbroken input; longer text is analysed in pieces cut at spaces.
_CHUNK_CHARS = 2000

# Kiwi without its two proper-noun dictionaries (Wikipedia titles, WikiData multi-word
# names): building them was most of its start-up, construction and first analysis taking
# 3.9 s and 520 MB with them, 1.3 s and 260 MB without. Measured on the dev-corpus lists and
# both evaluation sets: the tokens of 17 of 2,238 lines changed (a name or a compound cut
# into its parts; the written compound is still indexed), and `recall eval` MRR@10 of
# neither set, keyword or hybrid, moved by more than 0.0002.
_KIWI_OPTIONS = {"load_default_dict": False, "load_multi_dict": False}

HELPER_BATCH = 512  # chunks per message to the helper process

# Recorded in index manifests: an index is only searchable with the tokenizer that built it
# (/2: Kiwi without its proper-noun dictionaries; /3: each line analysed on its own; /4:
# Latin words as their English stems; /5: invisible format characters taken out, not read
# as spaces; /6: an acronym's plural as the acronym, CNNs as CNN).
TOKENIZER_NAME = "kiwipiepy-morphemes+latin-snowball/6"


@dataclass(frozen=True)
class Term:
    """One indexed token and the stretch of the original text it was read from."""

    token: str
    surface: str


class Morpheme(NamedTuple):
    """A Kiwi token as the helper process sends it: the fields the terms are read from."""

    form: str
    tag: str
    start: int
    len: int


def _load_kiwi() -> Kiwi:
    from kiwipiepy import Kiwi

    return Kiwi(**_KIWI_OPTIONS)


class _Morphology:
    """One Kiwi per process, created on first use; calls are serialised by a lock.

    A command can instead have Kiwi loaded by a helper process (`start_helper`): its second
    of loading then runs beside the model and the index loading (or a build's parsing and
    embedding) here, on the other core, and this process asks the helper for each analysis.
    The helper is this module run with the same interpreter and options, so its tokens are
    Kiwi's own.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kiwi: Kiwi | None = None
        self._helper: subprocess.Popen | None = None

    def start_helper(self) -> None:
        with self._lock:
            if self._kiwi is not None or self._helper is not None:
                return
            try:
                self._helper = subprocess.Popen(
                    [sys.executable, "-m", "indexer.morphology"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError:
                return  # analysed here instead
            atexit.register(self._stop_helper)

    def _ask_helper(self, chunks: list[str]) -> list[list[Morpheme]] | None:
        """The helper's analyses, asked HELPER_BATCH chunks at a time (a build's thousands
        of texts are never one message), or None once it fails."""
        helper = self._helper
        analysed: list[list[Morpheme]] = []
        try:
            for start in range(0, len(chunks), HELPER_BATCH):
                batch = chunks[start : start + HELPER_BATCH]
                helper.stdin.write(json.dumps(batch, ensure_ascii=False).encode() + b"\n")
                helper.stdin.flush()
                answer = json.loads(helper.stdout.readline())
                if len(answer) != len(batch):
                    raise ValueError("the helper answered another number of texts")
                analysed.extend([Morpheme(*token) for token in tokens] for tokens in answer)
            return analysed
        except (OSError, ValueError, TypeError):
            pass
        self._stop_helper()  # a helper that failed once is not asked again
        return None

    def _stop_helper(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None:
            # Killed, not asked to end: it holds nothing to save, and a Kiwi process takes
            # up to a second to free its model (the command's last second, measured).
            helper.kill()
            helper.wait()
            for pipe in (helper.stdin, helper.stdout):
                with contextlib.suppress(OSError):  # a dead helper's pipe is broken
                    pipe.close()

    def analyse(self, chunks: list[str]) -> list[list[Token | Morpheme]]:
        if not chunks:
            return []
        with self._lock:
            if self._helper is not None:
                analysed = self._ask_helper(chunks)
                if analysed is not None:
                    return analysed
            if self._kiwi is None:
                self._kiwi = _load_kiwi()
            # A list is analysed on Kiwi's worker threads; z_coda only splits trailing
            # consonants off endings, which are dropped anyway.
            return [list(tokens) for tokens in self._kiwi.tokenize(chunks, z_coda=False)]


def _serve_helper() -> None:
    """The helper process: Kiwi loaded at once, then one JSON list of chunks per input line
    answered with one line of their tokens, until the input ends."""
    kiwi = _load_kiwi()
    kiwi.tokenize("시계열")  # the first analysis loads the rest of the model
    for line in sys.stdin.buffer:
        analysed = kiwi.tokenize(json.loads(line), z_coda=False)
        answer = [[(t.form, t.tag, t.start, t.len) for t in tokens] for tokens in analysed]
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        sys.stdout.flush()


_MORPHOLOGY = _Morphology()


def start_helper() -> None:
    """Have Kiwi loaded in a helper process from now on (see _Morphology): for a command
    that will analyse Korean and loads or computes other things meanwhile."""
    _MORPHOLOGY.start_helper()


def normalize(text: str) -> str:
    """NFC (composes Hangul typed as jamo), ASCII for full-width forms, invisible format
    characters taken out as a query loses them (G<zero-width space>A<zero-width space>N is
    GAN, a soft hyphen joins its word), a space for every other control, format or
    unassigned character (lone surrogates would crash Kiwi), and runs of one repeated
    character cut to three.

    NFKC would be tempting but turns compatibility jamo such as "ㅋㅋ" into conjoining
    jamo that Kiwi then reads as nouns.
    """
    text = unicodedata.normalize("NFC", text).translate(_PLAIN_FORMS)
    if not text.isprintable():
        text = INVISIBLE.sub("", text)
        text = "".join(char if char.isprintable() else " " for char in text)
    return _REPEAT.sub(r"\1\1\1", text)


def _chunks(text: str, limit: int = _CHUNK_CHARS) -> Iterator[tuple[int, str]]:
    start = 0
    while start < len(text):
        end = min(start + limit, len(text))
        if end < len(text):
            cut = text.rfind(" ", start + 1, end)
            end = cut if cut > start else end
        yield start, text[start:end]
        start = end


def _base_tag(token: Token | Morpheme) -> str:
    return token.tag.split("-")[0]  # VV-I, VA-R: irregular conjugations


def _morpheme_terms(token: Token | Morpheme, chunk: str, offset: int) -> Iterator[tuple[int, Term]]:
    if _base_tag(token) not in _CONTENT_TAGS or not _HANGUL_SYLLABLE.search(token.form):
        return
    span = chunk[token.start : token.start + token.len]
    # Kiwi spells some compounds with a space ("자연어 처리" for 자연어처리): index each part.
    for part in token.form.split():
        if part not in KOREAN_STOP_STEMS:
            yield offset + token.start, Term(part, part if part in span else span)


def _compound_terms(
    tokens: list[Token | Morpheme], chunk: str, offset: int
) -> Iterator[tuple[int, Term]]:
    """Each written compound (noun morphemes with nothing between them) as one more term.

    Kiwi cuts a word differently in different contexts (시계열 alone, 시 + 계열 before
    강화학습), so a query and a document could disagree on the parts; the written whole
    is the same in both.
    """
    run: list[Token | Morpheme] = []
    for token in [*tokens, None]:
        joins = (
            token is not None
            and _base_tag(token) in _NOUN_TAGS
            and bool(_HANGUL_SYLLABLE.search(token.form))
        )
        if joins and run and run[-1].start + run[-1].len == token.start:
            run.append(token)
            continue
        if sum(len(morpheme.form.split()) for morpheme in run) > 1:
            span = chunk[run[0].start : run[-1].start + run[-1].len]
            if not any(char.isspace() for char in span):
                yield offset + run[0].start, Term(span, span)
        run = [token] if joins else []


# Latin words are indexed and asked as their Snowball stems in this language, so that
# "networks", "distilling" and "distillation" meet "network" and "distil". It is part of the
# tokenizer: TOKENIZER_NAME changes with it. bench/ablation.py sets it to None (words kept
# whole) for the indexes it compares against, built in their own directories and caches.
LATIN_STEMMER: str | None = "english"
_STEMMERS = threading.local()  # a Snowball stemmer is not safe to share between threads


# Snowball keeps an acronym's plural whole ("cnns", "gpus"): CNNs and GPUs lose the "s" first,
# as does a word of four letters or more with no vowel before its final "s" (lstms, mlps).
_ACRONYM_PLURAL = re.compile(r"[A-Z][A-Z0-9]*[A-Z]s|[b-df-hj-np-tv-xz0-9]{3,}s")


def latin_token(word: str) -> str:
    """A Latin word, as written or lower-cased, as the index holds it."""
    if not LATIN_STEMMER:
        return word.lower()
    if _ACRONYM_PLURAL.fullmatch(word):
        word = word[:-1]
    return _stem(word.lower(), LATIN_STEMMER)


@functools.lru_cache(maxsize=1 << 16)
def _stem(word: str, language: str) -> str:
    stemmers = _STEMMERS.__dict__
    if language not in stemmers:
        import Stemmer

        stemmers[language] = Stemmer.Stemmer(language)
    return stemmers[language].stemWord(word)


def latin_terms(text: str) -> Iterator[tuple[int, Term]]:
    for match in _WORD.finditer(text):
        word = match.group()
        if word.lower() not in _ENGLISH_STOPWORDS:
            yield match.start(), Term(latin_token(word), word)


def part_of(word: str, other: str) -> bool:
    """Whether `word` is a part of the longer `other`, case aside: Korean inside it (판별 of
    판별자), a Latin word as one of its words (GAN of "GAN 모형", never "AI" of "BAIR")."""
    word, other = word.casefold(), other.casefold()
    if word == other or word not in other:
        return False
    return bool(_HANGUL_SYLLABLE.search(word)) or word in _WORD.findall(other)


def latin_surfaces(text: str, tokens: set[str]) -> list[str]:
    """The Latin words of `text` whose tokens are among `tokens`, each spelling once, in
    the order the text first writes them: what a hit matched, in its own spelling
    ("Network" for the asked "networks")."""
    # A Snowball English stem starts with its word's first letter: only words starting as
    # a Latin token does can be one (most of a text's words are not stemmed to be compared).
    firsts = {token[0] for token in tokens if token and not _HANGUL_SYLLABLE.search(token)}
    found: list[str] = []
    if not firsts:  # no Latin word to find
        return found
    for word in dict.fromkeys(_WORD.findall(text)):
        lowered = word.lower()
        could_be = lowered[0] in firsts
        if could_be and lowered not in _ENGLISH_STOPWORDS and latin_token(word) in tokens:
            found.append(word)
    return found


def _analyse_lines(lines: list[str]) -> list[list[Term]]:
    """The terms of each normalized line in reading order; all Korean in one Kiwi call."""
    jobs = [
        (index, offset, chunk)
        for index, line in enumerate(lines)
        if _HANGUL_SYLLABLE.search(line)
        for offset, chunk in _chunks(line)
    ]
    analysed = _MORPHOLOGY.analyse([chunk for _, _, chunk in jobs])
    positioned: list[list[tuple[int, Term]]] = [list(latin_terms(line)) for line in lines]
    for (index, offset, chunk), tokens in zip(jobs, analysed, strict=True):
        positioned[index].extend(_compound_terms(tokens, chunk, offset))
        for token in tokens:
            positioned[index].extend(_morpheme_terms(token, chunk, offset))
    return [[term for _, term in sorted(terms, key=lambda item: item[0])] for terms in positioned]


def analyse_many(texts: Iterable[str]) -> list[list[Term]]:
    """The terms of each text in reading order. A text is read line by line, and a line
    that several texts hold is analysed once: a list's texts repeat their headings, titles
    and notes (on the dev corpus, 34 k characters of Korean to analyse instead of 63 k)."""
    texts_lines = [[normalize(line) for line in text.splitlines()] for text in texts]
    distinct = list(dict.fromkeys(line for lines in texts_lines for line in lines))
    terms_of = dict(zip(distinct, _analyse_lines(distinct), strict=True))
    return [[term for line in lines for term in terms_of[line]] for lines in texts_lines]


def tokenize_many(texts: Iterable[str]) -> list[list[str]]:
    """`tokenize` for many texts at once, which lets Kiwi use all its threads."""
    return [[term.token for term in terms] for terms in analyse_many(texts)]


def tokenize(text: str) -> list[str]:
    """Index tokens: Korean content morphemes and written compounds (시계열을 -> 시계열;
    객체인식 -> 객체인식, 객체, 인식) and the lower-cased stems of words of other scripts
    (LSTM -> lstm, Networks -> network, seq2seq, c++), minus stopwords."""
    return tokenize_many([text])[0]


if __name__ == "__main__":
    _serve_helper()
