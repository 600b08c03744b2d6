"""The chat reader on written KakaoTalk exports: one fixture per format, and bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer.sources.files import list_files, parse_sources
from indexer.sources.kakao import detect

FIXTURES = Path(__file__).parent / "fixtures" / "kakao"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "keras-open-chat.md"


def parse(*names: str):
    return parse_sources([FIXTURES / name for name in names])


def mentions(result) -> list[tuple]:
    """(url, contributor, date, time, note) of every mention, in file order."""
    rows = [
        (m.line, r.url, m.contributor, m.date, m.time, m.note)
        for r in result.resources
        for m in r.mentions
    ]
    return [row[1:] for row in sorted(rows)]


def by_url(result) -> dict:
    return {r.url: r for r in result.resources}


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("pc_ko.txt", "kakao-pc"),
        ("pc_en.txt", "kakao-pc"),
        ("android_ko.txt", "kakao-android"),
        ("ios_ko.txt", "kakao-ios"),
        ("mobile_en.txt", "kakao-mobile-en"),
        ("mobile_en_24h.txt", "kakao-mobile-en"),
        ("ios_en.txt", "kakao-mobile-en"),
        ("android_en_old.txt", "kakao-mobile-en-time-first"),
        ("mac.csv", "kakao-mac-csv"),
        ("not_chat.txt", "markdown"),
    ],
)
def test_each_file_is_read_by_the_reader_its_content_asks_for(name, reader):
    (stats,) = parse(name).files
    assert stats.reader == reader
    assert stats.path == str(FIXTURES / name)


def test_markdown_and_prose_are_not_chat_exports():
    assert detect(SAMPLE.read_text(encoding="utf-8")) is None
    assert detect("") is None
    assert detect("[메모] [오후 3:12] 한 줄만 비슷한 글\n그리고 평범한 문장\n") is None


def test_windows_korean_export():
    result = parse("pc_ko.txt")
    assert mentions(result) == [
        (
            "https://arxiv.org/abs/1811.12649",
            "이명규",
            "2019-02-22",
            "15:12",
            "이거 한번 보세요\n분류 문제로 풀어도 성능이 잘 나온다는 논문입니다\n\n"
            "구현이 궁금하시면 (이메일 가림) 으로 연락주세요",
        ),
        (
            "https://www.youtube.com/watch?v=2np77NOdnwk",  # fbclid dropped, as for lists
            "[서울] 박성욱",
            "2019-02-22",
            "23:58",
            "자기 전에 하나 더",
        ),
        (
            "https://arxiv.org/abs/1811.12649",
            "[서울] 박성욱",
            "2019-02-23",
            "00:03",
            "자정 넘어서 다시 올립니다",
        ),
        (
            "https://github.com/keras-team/keras",
            "Ryan Shin",
            "2019-02-23",
            "12:30",
            "점심 먹으면서 볼 자료",
        ),
        ("https://keras.io/", "Ryan Shin", "2019-02-23", "12:30", "점심 먹으면서 볼 자료"),
    ]
    paper = by_url(result)["https://arxiv.org/abs/1811.12649"]
    assert paper.contributors == ["이명규", "[서울] 박성욱"]  # the same link again: one resource
    assert paper.title_is_placeholder and paper.title == paper.url
    first = paper.mentions[0]
    assert first.context == "김태영: 혹시 metric learning 쪽 최신 논문 추천해주실 분 계신가요?"
    assert first.section == "케라스 코리아" and first.line == 8
    assert by_url(result)["https://keras.io/"].companions == ["https://github.com/keras-team/keras"]
    (stats,) = result.files
    # 10 messages: join/leave lines and the open-chat notice are not messages
    assert (stats.messages, stats.links, stats.members) == (10, 5, 4)
    assert (stats.first_date, stats.last_date) == ("2019-02-22", "2019-02-23")
    assert result.warnings == []


def test_crlf_and_bom_read_like_lf(tmp_path):
    plain = tmp_path / "plain.txt"
    data = (FIXTURES / "pc_ko.txt").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    plain.write_bytes(data[3:].replace(b"\r\n", b"\n"))
    assert mentions(parse_sources([plain])) == mentions(parse("pc_ko.txt"))


def test_windows_english_export():
    result = parse("pc_en.txt")
    assert mentions(result) == [
        (
            "https://jalammar.github.io/illustrated-transformer/",
            "Ryan Shin",
            "2019-02-22",
            "00:09",  # 12:09 AM is after midnight
            "This one is great\n\nCall me at (전화번호 가림) if you want to go through it",
        ),
        (
            "https://en.wikipedia.org/wiki/Attention_(machine_learning)",  # brackets kept, ")." not
            "Ryan Shin",
            "2019-02-23",
            "13:15",
            "Wikipedia has it too .\nThe history section is short but good.",
        ),
    ]
    assert result.resources[0].mentions[0].context == (
        "Jin: ML: Anyone have a good intro to attention?"
    )
    assert result.files[0].members == 2  # "Jin: ML joined this chatroom." is not a message


def test_android_korean_export():
    result = parse("android_ko.txt")
    assert mentions(result) == [
        (
            "https://tykimos.github.io/2017/12/12/One_Slide_GAN/",
            "김태영",
            "2019-02-22",
            "15:04",
            "판별자 가중치 고정하는 부분 확인해보세요\n\n"
            "trainable = False 를 compile 전에 설정해야 합니다",
        ),
        (
            "https://www.altumintelligence.com/articles/a/"
            "Time-Series-Prediction-Using-LSTM-Deep-Neural-Networks",
            "이상훈",
            "2019-02-24",
            "00:00",
            "시계열 예측 자료 공유합니다",
        ),
        (
            "https://github.com/jaungiers/LSTM-Neural-Network-for-Time-Series-Prediction",
            "이상훈",
            "2019-02-24",
            "00:01",
            "코드는 여기",  # a link of its own, so not a follow-up of the one before
        ),
    ]
    gan = result.resources[0].mentions[0]
    assert gan.context == "최지은: GAN 학습이 자꾸 발산하는데 팁 있을까요?"
    assert result.files[0].messages == 7  # "…님이 들어왔습니다." is the app's, not a message


def test_ios_korean_export():
    result = parse("ios_ko.txt")
    assert mentions(result) == [
        (
            "https://drive.google.com/file/d/1yEA4l-IIdTykPy3Flp7F6ZySUEU39Amv/view",
            "이진원",
            "2019-02-25",
            "09:31",
            "TPU 관련 자료 모아둔 거 있어요\n\n궁금하면 (전화번호 가림) 로 연락 주세요",
        ),
        (
            "https://cloud.google.com/tpu/docs",
            "홍길동 씨",
            "2019-02-25",
            "12:00",
            "좋네요 :) 저도 하나",
        ),
    ]
    assert result.files[0].messages == 3  # the two "…: notice" lines are not messages


def test_android_english_export_with_midnight_and_noon():
    result = parse("mobile_en.txt")
    assert mentions(result) == [
        (
            "https://arxiv.org/abs/1811.07130",
            "Lee Myungkyu",
            "2019-02-22",
            "15:12",
            "Batch feature erasing\n\nit works well for re-identification",
        ),
        (
            "https://arxiv.org/abs/1804.00382",
            "Lee Myungkyu",
            "2019-02-23",
            "00:00",
            "Midnight bonus",
        ),
    ]
    assert result.resources[0].mentions[0].context == "Kim Taeyoung: Any papers on metric learning?"
    assert result.files[0].messages == 6


def test_english_export_with_24_hour_times():
    result = parse("mobile_en_24h.txt")
    assert mentions(result) == [
        (
            "https://keras.io/examples/",
            "Ryan Shin",
            "2019-02-23",
            "00:15",
            "Late night reading",  # 13:06 is fifty minutes later: not a follow-up
        )
    ]


def test_ios_english_export_with_short_months_and_narrow_spaces():
    result = parse("ios_en.txt")
    assert mentions(result) == [
        (
            "https://drive.google.com/file/d/1yEA4l-IIdTykPy3Flp7F6ZySUEU39Amv/view",
            "Lee Jinwon",
            "2019-02-25",
            "09:31",
            "Notes on TPUs\n\nmail me at (이메일 가림)",
        ),
        (
            "https://cloud.google.com/tpu/pricing",
            "Lee Jinwon",
            "2019-09-02",
            "12:10",
            "TPU pricing changed",
        ),
    ]


def test_older_android_english_export_with_the_time_first():
    result = parse("android_en_old.txt")
    assert mentions(result) == [
        ("https://keras.io/guides/", "Ryan Shin", "2019-02-22", "15:12", "The official guides"),
        ("https://keras.io/examples/", "Lee Myungkyu", "2019-02-23", "00:20", "and the examples"),
    ]
    assert result.resources[0].mentions[0].context == "Kim Taeyoung: Where do I start with Keras?"
    assert result.files[0].messages == 4  # the "invited" notice is not a message


def test_mac_csv_with_quoted_commas_quotes_and_newlines():
    result = parse("mac.csv")
    (mention,) = result.resources[0].mentions
    assert (mention.contributor, mention.date, mention.time) == ("이명규", "2019-02-22", "15:12")
    assert mention.note == '이거 보세요, 정말 좋아요\n\n"SOTA"는 괜히 SOTA가 아니네요'
    assert mention.context == "김태영: 혹시 metric learning 논문 추천해주실 분?"
    assert mention.line == 3  # the row starts on line 3 and runs onto line 4
    stats = result.files[0]
    assert (stats.messages, stats.members) == (4, 3)  # the "…님이 나갔습니다." row is not one


@pytest.mark.parametrize(
    "order", [("pc_ko.txt", "pc_ko_newer.txt"), ("pc_ko_newer.txt", "pc_ko.txt")]
)
def test_a_newer_overlapping_export_adds_no_duplicate_mentions(order):
    result = parse(*order)
    assert len(mentions(result)) == 6  # 5 in the old export, 1 new in the newer one
    assert len(set(mentions(result))) == 6
    assert sum(stats.duplicates for stats in result.files) == 2
    assert by_url(result)["https://keras.io/guides/functional_api/"].contributors == ["김태영"]


def test_the_same_export_twice_adds_nothing(tmp_path):
    copy = tmp_path / "again.txt"
    shutil.copy(FIXTURES / "pc_ko.txt", copy)
    result = parse_sources([FIXTURES / "pc_ko.txt", copy])
    assert mentions(result) == mentions(parse("pc_ko.txt"))
    assert [stats.duplicates for stats in result.files] == [0, 4]  # its 4 messages with links


def test_lines_that_fit_no_format_are_warnings_with_file_and_line():
    result = parse("broken.txt")
    source = str(FIXTURES / "broken.txt")
    assert [str(w) for w in result.warnings] == [
        f"{source}:4: unreadable timestamp (a message before any date line); line skipped",
        f"{source}:5: unreadable date line; line skipped",
        f"{source}:7: unreadable timestamp (no such date); line skipped",
    ]
    (resource,) = result.resources
    assert resource.mentions[0].note == "정상 메시지\n이어지는 줄"  # a continuation line


def test_a_line_before_the_first_message_is_a_warning(tmp_path):
    export = tmp_path / "chat.txt"
    export.write_text(
        "아무 설명 없는 첫 줄\n"
        "2019년 2월 22일 오후 3:12, 이명규 : https://keras.io/\n"
        "2019년 2월 22일 오후 3:13, 이명규 : 두 번째\n",
        encoding="utf-8",
    )
    result = parse_sources([export])
    assert [str(w) for w in result.warnings] == [
        f"{export}:1: not a message of a KakaoTalk export; line skipped"
    ]
    assert [r.url for r in result.resources] == ["https://keras.io/"]


def test_binary_and_undecodable_files_are_one_warning_each_and_the_parse_goes_on(tmp_path):
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00" * 50)
    cp949 = tmp_path / "old.txt"
    cp949.write_bytes(
        "2019년 2월 22일 오후 3:12, 이명규 : https://keras.io/ 입니다\n"
        "2019년 2월 22일 오후 3:13, 이명규 : 좋아요\n".encode("cp949")
    )
    result = parse_sources([binary, cp949, FIXTURES / "pc_ko.txt"])
    assert [w.source for w in result.warnings] == [str(binary), str(cp949)]
    assert "binary file" in result.warnings[0].message
    assert "decoded as cp949" in result.warnings[1].message
    assert [stats.reader for stats in result.files] == ["skipped", "kakao-android", "kakao-pc"]
    assert by_url(result)["https://keras.io/"].contributors == ["이명규", "Ryan Shin"]


def test_a_text_file_that_is_not_an_export_is_read_as_markdown():
    result = parse("not_chat.txt")
    (resource,) = result.resources
    assert resource.title == "GAN 모형에서 trainable 매개변수"
    assert resource.mentions[0].contributor == "김태영"


def test_a_folder_holds_lists_and_exports_but_never_index_cache_or_hidden_files(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data / "chats")
    shutil.copy(SAMPLE, data / "keras-open-chat.md")
    for folder in ("index.builds/20190101-abc", "cache", ".git", "old"):
        (data / folder).mkdir(parents=True)
        (data / folder / "list.md").write_text("* [Hidden](https://ex.com/hidden)\n")
    (data / "index.builds/20190101-abc/manifest.json").write_text("{}")
    (data / "cache/pages.sqlite").write_bytes(b"SQLite format 3\x00")
    (data / "old/manifest.json").write_text("{}")  # a legacy index folder
    (data / ".draft.md").write_text("* [Draft](https://ex.com/draft)\n")
    (data / "index").symlink_to(data / "index.builds/20190101-abc")
    files = {str(path.relative_to(data)) for path in list_files([data])}
    chats = {f"chats/{p.name}" for p in FIXTURES.iterdir() if p.name != "not_chat.txt"}
    assert files == chats | {"keras-open-chat.md"}
    result = parse_sources([data])
    assert not any("ex.com" in r.url for r in result.resources)
    # one resource from a list and from a chat
    assert by_url(result)["https://arxiv.org/abs/1811.07130"].contributors == [
        "이명규",
        "Lee Myungkyu",
    ]


def test_counts_per_file_for_lists_too():
    result = parse_sources([SAMPLE, FIXTURES / "android_ko.txt"])
    sample, chat = result.files
    assert (sample.reader, sample.messages, sample.links, sample.members) == ("markdown", 0, 11, 5)
    assert (sample.first_date, sample.last_date) == ("2019-02-22", "2019-03-14")
    assert (chat.messages, chat.links, chat.members) == (7, 3, 3)


def test_the_resource_page_shows_the_context_apart_from_the_note(fake_build):
    from indexer.store import IndexMetadata
    from search_ui.cards import mention_html
    from search_ui.resource_page import context_html

    built = fake_build([FIXTURES / "pc_ko.txt"])
    docs = {doc["url"]: doc for doc in IndexMetadata(built.path).docs}
    mention = docs["https://arxiv.org/abs/1811.12649"]["mentions"][0]
    assert mention["context"].startswith("김태영: 혹시 metric learning")
    note_html, context = mention_html("ko", mention), context_html("ko", mention)
    assert "김태영: 혹시" not in note_html and "김태영: 혹시" in context
    assert "15:12 앞선 대화" in context and "공유한 사람의 메모가 아닙니다" in context
    assert "not the contributor&#x27;s note" in context_html("en", mention)
    hostile = {**mention, "context": "김태영: <script>alert(1)</script>"}
    assert "<script>" not in context_html("ko", hostile)
    assert context_html("ko", {**mention, "context": ""}) == ""


def test_recall_parse_prints_what_each_file_held(capsys):
    from indexer.cli import main

    assert main(["parse", str(FIXTURES / "pc_ko.txt"), str(FIXTURES / "pc_ko_newer.txt")]) == 0
    out = capsys.readouterr().out
    assert "files:     2\n" in out
    assert (
        f"  {FIXTURES / 'pc_ko.txt'}: kakao-pc, 10 messages, 5 links, 4 contributors, "
        "2019-02-22 ~ 2019-02-23\n"
    ) in out
    assert "1 links, 3 contributors, 2019-02-23 ~ 2019-03-08, 2 messages already read" in out


def test_a_list_with_date_lines_is_still_a_list(tmp_path):
    listing = tmp_path / "dated.txt"
    listing.write_text(
        "February 22, 2019\n\n* [A paper](https://ex.com/a)\n\nMarch 3, 2019\n\n"
        "* [Another one](https://ex.com/b)\n",
        encoding="utf-8",
    )
    result = parse_sources([listing])
    assert [stats.reader for stats in result.files] == ["markdown"]
    assert [r.url for r in result.resources] == ["https://ex.com/a", "https://ex.com/b"]
