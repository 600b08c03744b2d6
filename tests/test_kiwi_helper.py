"""Kiwi loaded in a helper process (morphology.start_helper): the helper's tokens are the
ones this process's own Kiwi makes, and a helper that fails is replaced by local analysis."""

from __future__ import annotations

import subprocess

from apprun import SAMPLE

from indexer import morphology
from indexer.morphology import _Morphology

LONG = "시계열 예측을 위한 순환 신경망 " * 200  # past one chunk: analysed in pieces
TEXTS = [
    *[line for line in SAMPLE.read_text("utf-8").splitlines() if line.strip()][:60],
    LONG,
    "ㅋㅋㅋㅋ 자연어처리 책 추천 😀 C++ seq2seq",
    "대학원생을 위한 강화학습 튜토리얼",
]


def analysed(morphology_: _Morphology, texts: list[str]) -> list[list[tuple]]:
    chunks = [
        chunk for text in texts for _, chunk in morphology._chunks(morphology.normalize(text))
    ]
    return [
        [(t.form, t.tag, t.start, t.len) for t in tokens] for tokens in morphology_.analyse(chunks)
    ]


def test_the_helper_analyses_as_kiwi_here_does():
    local = _Morphology()
    helped = _Morphology()
    helped.start_helper()
    helper = helped._helper
    assert helper is not None
    try:
        assert analysed(helped, TEXTS) == analysed(local, TEXTS)
        assert helped._kiwi is None  # this process never loaded Kiwi
        assert analysed(helped, ["시계열"]) == [[("시계열", "NNG", 0, 3)]]  # asked again
    finally:
        helped._stop_helper()
    assert helper.returncode is not None  # stopped and reaped: nothing is left running


def test_many_texts_go_to_the_helper_in_batches(monkeypatch):
    monkeypatch.setattr(morphology, "HELPER_BATCH", 7)  # 63+ chunks: ten messages
    helped = _Morphology()
    helped.start_helper()
    try:
        assert analysed(helped, TEXTS) == analysed(_Morphology(), TEXTS)
        assert helped._helper is not None and helped._kiwi is None
    finally:
        helped._stop_helper()


def test_a_helper_that_dies_is_replaced_by_kiwi_here():
    helped = _Morphology()
    helped.start_helper()
    helped._helper.kill()
    helped._helper.wait()
    question = ["LSTM으로 시계열 예측"]
    assert analysed(helped, question) == analysed(_Morphology(), question)
    assert helped._helper is None and helped._kiwi is not None


def test_a_helper_that_cannot_start_leaves_analysis_here(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no processes left")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    helped = _Morphology()
    helped.start_helper()
    assert helped._helper is None
    assert analysed(helped, ["시계열"]) == [[("시계열", "NNG", 0, 3)]]
