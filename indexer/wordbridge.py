"""Word bridges: a query word's translations among the index's own words, found by the
index's model.

The glossary bridges the field's terms between Korean and English; everyday words
(특징 / feature, 검색 / search, 장치 / device, 보행자 / pedestrian) it leaves out. The
multilingual model places a word and its translation close together, so each build embeds
the words its lists wrote (titles, notes, headings, chat context: not page text, whose
vocabulary is unbounded), and a query word that no glossary term covers is bridged to the
words of the other script whose vectors are closest to its own, when they are close
enough to be the same word (`WORD_SIMILARITY`, per model: a model not named there, such as
the English MiniLM, gets no word bridges) and it is about as close to them as any word of
its own language in the index is (`MUTUAL_MARGIN`). A word the model places about where it
places no text at all means nothing to it, and is neither bridged nor a translation
(`BLANK_LIKENESS`).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from indexer.lexical import FieldIndex
from indexer.morphology import latin_terms

WORD_FIELDS = ("title", "notes", "headings", "context")  # what the lists' people wrote
MAX_WORDS = 10_000  # the most widely held words, when the lists write more
WORDS_FORMAT = 2  # how the words are chosen and embedded: a new one rebuilds the index (2: blank)
# The cosine at or above which two words of different scripts are taken as one word in two
# languages, per model (chosen on the tuning half of bench/data/*.json; BENCHMARKS.md).
WORD_SIMILARITY = {"use-multilingual": 0.6}
NEAREST = 2  # the closest words of the other language a query word is bridged to, at most
# ... each only when the query word is about as close to it as any other word of its own
# language in the index is (mutual nearest neighbours, as in bilingual lexicon induction)
MUTUAL_MARGIN = 0.05
# The cosine to the model's vector of no text at all (the empty string) at or above which a
# word carries no meaning for the model, per model: it places a particle, a verb's bare
# stem, a name or a typo about where it places nothing (으로 0.62, 까닭 0.76, "carnd" 0.69,
# "hee" 0.76; 특징 0.27, "features" 0.34), and two such words look alike whatever they mean
# (으로 and "com": 0.91). Such a word is neither bridged nor a translation, and the next
# closest word does not stand in for it: its neighbours are as meaningless. Chosen on the
# tuning half of bench/data/*.json: the lowest likeness that keeps its MRR@10 (0.811 from
# 0.6 up, and without; 0.804 at 0.55).
BLANK_LIKENESS = {"use-multilingual": 0.6}
_HANGUL = re.compile("^[\uac00-\ud7a3]{2,}$")  # two syllables or more: one is too ambiguous
_LATIN = re.compile("^[a-z][a-z-]{2,}$")  # three letters or more, no digits


def script(token: str) -> str | None:
    """ "ko" or "en" for a word that can be bridged, None for any other token (one Hangul
    syllable, numbers, short Latin words, mixed scripts)."""
    if _HANGUL.match(token):
        return "ko"
    if _LATIN.match(token):
        return "en"
    return None


def spelling(token: str, surface: str) -> str:
    """How a query's word is embedded: a Latin one as written (lower-cased, not as its
    stem), a Korean one as its token (without the particles the query adds)."""
    return surface.lower() if script(token) == "en" else token


def index_words(lexical: FieldIndex) -> list[str]:
    """The bridgeable words of the lists' own fields, the most widely held first when
    there are more than MAX_WORDS: the Korean ones, then the Latin ones."""
    held = lexical.document_frequencies(WORD_FIELDS)
    words = [word for word in held if script(word)]
    if len(words) > MAX_WORDS:
        words = sorted(words, key=lambda word: -held[word])[:MAX_WORDS]
    return sorted(words, key=lambda word: script(word) == "en")  # stable: ko, then en


def spellings(texts: Iterable[str], words: list[str]) -> list[str]:
    """How each of `words` is embedded: a Latin one (an index token) as `texts` spell it
    most, lower-cased ("featur" as "features": a stem is no word to the model, 특징 is 0.40
    close to featur and 0.88 to features); a Korean one as it is."""
    latin = {word for word in words if script(word) == "en"}
    counts = Counter(
        (term.token, term.surface.lower())
        for text in texts
        for _, term in latin_terms(text)
        if term.token in latin
    )
    found: dict[str, str] = {}
    for (token, spelled), _ in counts.most_common():
        found.setdefault(token, spelled)
    return [found.get(word, word) for word in words]


def embed_words(
    words: list[str],
    spelled: list[str],
    dimension: int,
    encode: Callable[[list[str]], np.ndarray],
    known: WordVectors | None = None,
    blank: bool = False,
) -> WordVectors:
    """`words` (Korean first, `index_words`) with the vectors of their `spelled` forms
    (those `known` has, the served index's of the same model, reused; the others made by
    `encode`) and each one's closest words of the other language; with `blank`, also the
    model's vector of no text (`BLANK_LIKENESS`)."""
    reuse = known.by_spelling if known is not None else {}
    missing = [i for i, text in enumerate(spelled) if text not in reuse]
    reused = [i for i, text in enumerate(spelled) if text in reuse]
    vectors = np.zeros((len(words), dimension), dtype=np.float32)
    if reused:
        vectors[reused] = known.vectors[[reuse[spelled[i]] for i in reused]]
    texts = [spelled[i] for i in missing] + ([""] if blank else [])
    encoded = encode(texts) if texts else np.zeros((0, dimension), dtype=np.float32)
    vectors[missing] = encoded[: len(missing)]
    korean = _first_latin(words)
    nearest_rows = np.zeros((len(words), NEAREST), dtype=np.int32)
    nearest = np.full((len(words), NEAREST), -1.0, dtype=np.float32)
    latin = slice(korean, len(words))
    for start in range(0, korean, _CHUNK):  # Korean against Latin, both ways, a block at a time
        block = slice(start, min(start + _CHUNK, korean))
        similarity = vectors[block] @ vectors[latin].T
        _keep_best(similarity, nearest_rows, nearest, block, latin.start)
        _keep_best(similarity.T, nearest_rows, nearest, latin, block.start)
    empty = encoded[-1] if blank else None
    return WordVectors(words, spelled, vectors, nearest_rows, nearest, empty)


_CHUNK = 1024  # words compared at once with all the other language's (4 MB per 1,000)


def _first_latin(words: list[str]) -> int:
    """The row of the first Latin word of `words`, which hold the Korean ones first."""
    return bisect.bisect_left(words, True, key=lambda word: script(word) == "en")


def _best_columns(similarity: np.ndarray) -> np.ndarray:
    """Each row's NEAREST most similar columns (fewer when there are fewer), best first."""
    count = min(NEAREST, similarity.shape[1])
    top = np.argpartition(-similarity, count - 1, axis=1)[:, :count]
    order = np.argsort(-np.take_along_axis(similarity, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def _keep_best(
    similarity: np.ndarray, rows: np.ndarray, best: np.ndarray, of: slice, first: int
) -> None:
    """Merge `similarity` (the words `of` × other words from row `first`) into each word's
    NEAREST closest other words (`rows`, best first) and their similarities (`best`)."""
    if similarity.shape[1] == 0:
        return
    top = _best_columns(similarity)
    values = np.concatenate([best[of], np.take_along_axis(similarity, top, axis=1)], axis=1)
    candidates = np.concatenate([rows[of], top + first], axis=1)
    order = np.argsort(-values, axis=1, kind="stable")[:, :NEAREST]
    best[of] = np.take_along_axis(values, order, axis=1)
    rows[of] = np.take_along_axis(candidates, order, axis=1)


@dataclass
class WordVectors:
    """An index's words, the Korean ones first (`index_words`), each as it was embedded
    (`spelled`), their vectors (row i is words[i]), and each one's closest word of the
    other language (its row) with the two best similarities there."""

    words: list[str]
    spelled: list[str]
    vectors: np.ndarray  # float32 (len(words), dimension), L2-normalised
    nearest_rows: np.ndarray  # int32 (len(words), NEAREST): the closest other words, best first
    nearest: np.ndarray  # float32 (len(words), NEAREST): their similarities
    # The model's vector of no text (`BLANK_LIKENESS`); None in an index built before it
    # was stored, or for a model without a likeness.
    blank: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.words)

    @functools.cached_property
    def position(self) -> dict[str, int]:
        return {word: i for i, word in enumerate(self.words)}

    @functools.cached_property
    def by_spelling(self) -> dict[str, int]:
        return {text: i for i, text in enumerate(self.spelled)}

    def spelling(self, tokens: tuple[str, ...]) -> str:
        """A bridged word (its tokens) as it was embedded: as the lists spell it most."""
        return " ".join(self.spelled[self.position[token]] for token in tokens)

    def unknown(self, tokens: Iterable[str]) -> list[str]:
        """The bridgeable `tokens` the index lacks: they need embedding to be bridged."""
        return [token for token in tokens if script(token) and token not in self.position]

    def translations(
        self,
        tokens: Iterable[str],
        encoded: dict[str, np.ndarray],
        min_similarity: float,
        blank_likeness: float | None = None,
    ) -> dict[str, tuple[str, ...]]:
        """Each bridgeable token's closest words of the other language (NEAREST at most), at
        least `min_similarity` close and mutual (`_mutual`), best first; with
        `blank_likeness`, neither the token nor a translation may be as close as that to
        the model's vector of no text (`BLANK_LIKENESS`). Tokens with none are left out. A
        word the index holds has them from the build; `encoded` has the vectors of the
        others (`unknown`), which are compared with the index's words here."""
        found = {}
        for token in tokens:
            if token in self.position:
                at = self.position[token]
                if self._meaningless(self.vectors[at], blank_likeness):
                    continue
                candidates = zip(
                    self.nearest_rows[at].tolist(), self.nearest[at].tolist(), strict=True
                )
            elif token in encoded and script(token):
                if self._meaningless(encoded[token], blank_likeness):
                    continue
                candidates = self._closest(encoded[token], self._other_rows(script(token)))
            else:
                continue
            close = [
                self.words[row]
                for row, similarity in candidates
                if similarity >= min_similarity
                and self._mutual(token, similarity, row)
                and not self._meaningless(self.vectors[row], blank_likeness)
            ]
            if close:
                found[token] = tuple(close)
        return found

    def _closest(self, vector: np.ndarray, rows: slice) -> list[tuple[int, float]]:
        """The NEAREST words among `rows` closest to `vector`: (row, similarity), best first.
        (One `argmax` per word: for one vector, `_best_columns` costs more than the product.)"""
        similarity = self.vectors[rows] @ vector
        closest = []
        for _ in range(min(NEAREST, len(similarity))):
            at = int(similarity.argmax())
            closest.append((rows.start + at, float(similarity[at])))
            similarity[at] = -np.inf
        return closest

    def _meaningless(self, vector: np.ndarray, likeness: float | None) -> bool:
        """Whether the model places a word's `vector` `likeness` or more close to its
        vector of no text (never without a likeness, or in an index without that vector)."""
        if likeness is None or self.blank is None:
            return False
        return float(vector @ self.blank) >= likeness

    def _other_rows(self, language: str) -> slice:
        """The rows of the words of the language that is not `language`."""
        if language == "ko":
            return slice(self._latin_from, len(self.words))
        return slice(0, self._latin_from)

    @functools.cached_property
    def _latin_from(self) -> int:
        return _first_latin(self.words)

    def _mutual(self, token: str, similarity: float, row: int) -> bool:
        """Whether no other word of the token's language in the index is closer to the word
        at `row` than the token, by more than MUTUAL_MARGIN: 예측 and prediction are each
        other's closest words; "forecast" is close to 기대 (expectation), whose closest
        English word is another."""
        itself = self.position.get(token) == int(self.nearest_rows[row, 0])
        closest_other = self.nearest[row, 1 if itself else 0]
        return similarity >= float(closest_other) - MUTUAL_MARGIN
