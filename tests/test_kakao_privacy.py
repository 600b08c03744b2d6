"""Privacy in chat exports: masked contacts, excluded members, pseudonyms, and the index."""

from __future__ import annotations

import json
from pathlib import Path

from indexer.cli import main
from indexer.sources.chat import mask_contacts, pseudonym
from indexer.sources.files import parse_sources
from indexer.sources.options import ReadOptions

FIXTURES = Path(__file__).parent / "fixtures" / "kakao"
EXPORT = """케라스 코리아 님과 카카오톡 대화
저장한 날짜 : 2019-03-01 10:15:32

--------------- 2019년 2월 22일 금요일 ---------------
[김태영] [오후 3:05] 자료 있으면 kim.ty@example.com 으로 보내주세요 (010-2222-3333)
[최지은] [오후 3:06] 비밀 이야기: 최지은은 내일 이직합니다
[이명규] [오후 3:12] 김태영 님 이거요 https://arxiv.org/abs/1811.12649
[이명규] [오후 3:13] 궁금하면 +82 10-4444-5555 로 전화 주세요
[최지은] [오후 3:20] 제 자료도요 https://keras.io/
"""


def read(tmp_path: Path, **options):
    export = tmp_path / "chat.txt"
    export.write_text(EXPORT, encoding="utf-8")
    return parse_sources([export], ReadOptions(**options))


def test_contacts_are_masked_in_notes_and_context_by_default(tmp_path):
    paper = read(tmp_path).resources[0].mentions[0]
    assert paper.note == "김태영 님 이거요\n\n궁금하면 (전화번호 가림) 로 전화 주세요"
    assert paper.context == (
        "김태영: 자료 있으면 (이메일 가림) 으로 보내주세요 ((전화번호 가림))\n"
        "최지은: 비밀 이야기: 최지은은 내일 이직합니다"
    )


def test_keep_contacts_keeps_them(tmp_path):
    paper = read(tmp_path, keep_contacts=True).resources[0].mentions[0]
    assert "+82 10-4444-5555" in paper.note
    assert "kim.ty@example.com" in paper.context and "010-2222-3333" in paper.context


def test_dates_urls_and_versions_are_not_taken_for_phone_numbers():
    text = "2019-02-22 에 v1.2.3 배포, arXiv 1811.12649, 12:30 시작, 회의실 6-2"
    assert mask_contacts(text) == text


def test_an_excluded_member_is_dropped_entirely(tmp_path):
    result = read(tmp_path, exclude_senders=("최지은",))
    assert [r.url for r in result.resources] == ["https://arxiv.org/abs/1811.12649"]
    paper = result.resources[0].mentions[0]
    assert "이직" not in paper.context and "최지은:" not in paper.context
    (stats,) = result.files
    assert (stats.messages, stats.members) == (3, 2)


def test_pseudonyms_replace_names_everywhere_and_are_stable(tmp_path):
    result = read(tmp_path, pseudonymize=True)
    paper, keras = (r.mentions[0] for r in result.resources)
    assert paper.contributor == pseudonym("이명규") and keras.contributor == pseudonym("최지은")
    assert pseudonym("이명규") == pseudonym("이명규") != pseudonym("최지은")
    assert paper.note.startswith(f"{pseudonym('김태영')} 님 이거요")
    assert paper.context.splitlines()[1] == (
        f"{pseudonym('최지은')}: 비밀 이야기: {pseudonym('최지은')}은 내일 이직합니다"
    )
    every_text = json.dumps(result.to_dict(), ensure_ascii=False)
    for name in ("이명규", "김태영", "최지은"):
        assert name not in every_text


def test_what_is_dropped_never_reaches_the_index(tmp_path, fake_build, fake_settings):
    export = tmp_path / "chat.txt"
    export.write_text(EXPORT, encoding="utf-8")
    settings = fake_settings(reading=ReadOptions(exclude_senders=("최지은",)))
    built = fake_build([export], settings=settings)
    stored = b"".join(p.read_bytes() for p in built.path.resolve().rglob("*") if p.is_file())
    assert "김태영".encode() in stored  # the context is stored: the check can see text
    for dropped in ("이직", "최지은", "kim.ty@example.com", "4444-5555", "keras.io"):
        assert dropped.encode() not in stored


def test_the_flags_of_recall_parse(tmp_path, capsys):
    export = tmp_path / "chat.txt"
    export.write_text(EXPORT, encoding="utf-8")
    argv = ["parse", str(export), "--json", "--exclude-sender", "최지은", "--pseudonymize"]
    assert main([*argv, "--keep-contacts", "--context-minutes", "0.5"]) == 0
    data = json.loads(capsys.readouterr().out)
    (paper,) = data["resources"]
    mention = paper["mentions"][0]
    assert mention["contributor"] == pseudonym("이명규")
    assert mention["context"] == ""  # nothing in the half minute before
    assert "+82 10-4444-5555" in mention["note"]
    assert data["files"][0]["members"] == 2


def test_the_context_window_comes_from_the_environment(tmp_path, capsys, monkeypatch):
    export = tmp_path / "chat.txt"
    export.write_text(EXPORT, encoding="utf-8")
    monkeypatch.setenv("RECALL_CHAT_CONTEXT_MINUTES", "6.5")
    assert main(["parse", str(export), "--json"]) == 0
    mention = json.loads(capsys.readouterr().out)["resources"][0]["mentions"][0]
    assert mention["context"].startswith("최지은:")  # 3:05 is seven minutes before 3:12


def test_a_long_earlier_message_is_cut_in_the_context(tmp_path):
    export = tmp_path / "chat.txt"
    export.write_text(
        EXPORT.replace("비밀 이야기: 최지은은 내일 이직합니다", "긴 글 " * 400), encoding="utf-8"
    )
    context = parse_sources([export]).resources[0].mentions[0].context
    line = context.splitlines()[1]
    assert line.startswith("최지은: 긴 글") and line.endswith("…")
    assert len("최지은: ") + 490 < len(line) <= len("최지은: ") + 501


def test_a_rebuild_that_maintains_the_index_keeps_its_privacy_options(
    tmp_path, fake_build, fake_settings
):
    """`recall add` and `recall check-links` rebuild the served index: they reuse the
    reading options it was built with, so no real name comes back."""
    from indexer.build import maintained

    export = tmp_path / "chat.txt"
    export.write_text(EXPORT, encoding="utf-8")
    options = ReadOptions(pseudonymize=True, exclude_senders=("최지은",))
    fake_build([export], settings=fake_settings(reading=options))
    plain = fake_settings()  # what a command without reading flags starts from
    kept = maintained(plain)
    assert kept.reading.pseudonymize and not plain.reading.pseudonymize
    assert kept.reading.exclude_senders[0].startswith("sha256:")  # recorded as a digest
    assert kept.reading.excludes("최지은") and not kept.reading.excludes("김태영")
    rebuilt = fake_build([export], settings=kept, full=True)
    stored = b"".join(p.read_bytes() for p in rebuilt.path.resolve().rglob("*") if p.is_file())
    for dropped in ("이명규", "김태영", "최지은", "이직"):
        assert dropped.encode() not in stored
    assert maintained(fake_settings("no-index-yet")) == fake_settings("no-index-yet")
