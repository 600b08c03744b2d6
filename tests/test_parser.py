"""The list parser: the sample list field by field, one fixture per input shape, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.sources.files import parse_sources
from indexer.sources.markdown import parse_text

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "keras-open-chat.md"


@pytest.fixture(scope="module")
def sample():
    result = parse_sources([SAMPLE])
    return result, {r.url: r for r in result.resources}


def by_url(result):
    return {r.url: r for r in result.resources}


# ------------------------------------------------------------------ the sample


def test_sample_counts(sample):
    result, _ = sample
    assert len(result.resources) == 11
    assert result.warnings == []
    assert all(r.url_status == "ok" for r in result.resources)


def test_sample_five_papers_share_the_post_note(sample):
    result, _ = sample
    papers = [r for r in result.resources if r.mentions[0].contributor == "이명규"]
    assert [r.title for r in papers] == [
        "Making Classification Competitive for Deep Metric Learning",
        "Batch Feature Erasing for Person Re-identification and Beyond",
        "Attention-based Ensemble for Deep Metric Learning",
        "Total Recall: Automatic Query Expansion with a Generative Feature Model for "
        "Object Retrieval",
        "Total Recall II: Query Expansion Revisited",
    ]
    for paper in papers:
        mention = paper.mentions[0]
        assert mention.date == "2019-02-22"
        assert mention.note.startswith("역시 SOTA논문이 괜히 SOTA가 아닌가봐요")
        assert "디폴트가 아니다라는것" in mention.note
        assert mention.source.endswith("keras-open-chat.md")
    assert [p.mentions[0].line for p in papers] == [9, 10, 11, 12, 13]
    assert papers[0].type == "paper"
    assert papers[3].type == "pdf"


def test_sample_book_carries_the_whole_review(sample):
    _, urls = sample
    book = urls["http://www.yes24.com/Product/Goods/69334316"]
    mention = book.mentions[0]
    assert book.title == "텐서플로와 머신러닝으로 시작하는 자연어 처리"
    assert mention.contributor == "Ryan Shin"
    assert mention.date == "2019-02-28"
    assert mention.note.startswith("한국인이 쓴 첫 번째 딥러닝 자연어처리 책입니다.")
    assert "6장은 Seq2seq와 트랜스포머로 챗봇을 구현합니다." in mention.note
    assert mention.note.endswith("이 책이 큰 역할을 하리라 기대합니다.")
    assert mention.note.count("\n\n") == 5  # six paragraphs
    assert book.type == "book"


def test_sample_gan_post_has_quote_and_nested_comment(sample):
    _, urls = sample
    gan = urls["https://tykimos.github.io/2017/12/12/One_Slide_GAN/"]
    mention = gan.mentions[0]
    assert gan.title == "GAN 모형에서 trainable 매개변수"
    assert mention.contributor == "김태영"
    assert mention.date == "2019-03-03"
    assert mention.note.startswith('"여기서 하나 알 수 있는 것은 discriminator')
    assert "가중치 갱신이 일어나지 않음" in mention.note
    assert "trainable = False로 설정해요" in mention.note
    assert mention.note.rstrip().endswith("by 박성욱")


def test_sample_lstm_article_has_repo_and_talk_as_companions(sample):
    _, urls = sample
    article_url = (
        "https://www.altumintelligence.com/articles/a/"
        "Time-Series-Prediction-Using-LSTM-Deep-Neural-Networks"
    )
    article = urls[article_url]
    repo = "https://github.com/jaungiers/LSTM-Neural-Network-for-Time-Series-Prediction"
    talk = "https://www.youtube.com/watch?v=2np77NOdnwk"
    assert article.mentions[0].contributor == "이상훈"
    assert article.mentions[0].date == "2019-03-14"
    assert article.companions == [repo, talk]
    assert article_url in urls[repo].companions
    assert urls[repo].type == "repo"
    assert urls[talk].type == "video"
    assert urls[talk].mentions[0].contributor == "이상훈"
    assert "fbclid" in article.original_urls[0]
    assert "fbclid" not in article.url


def test_sample_contributors_have_no_honorific(sample):
    result, _ = sample
    names = {m.contributor for r in result.resources for m in r.mentions}
    assert names == {"이명규", "이진원", "Ryan Shin", "김태영", "이상훈"}


# ------------------------------------------------------------------ headings


@pytest.mark.parametrize(
    ("heading", "contributor", "date", "topics"),
    [
        ("## 이름 (2019.02.25)", "이름", "2019-02-25", []),
        ("## 홍길동씨 (2019.02.22)", "홍길동", "2019-02-22", []),
        ("## 홍길동님 페이스북(2019.03.22)", "홍길동", "2019-03-22", ["페이스북"]),
        ("## Keras 팁 (홍길동님, 2019.10.05)", "홍길동", "2019-10-05", ["Keras 팁"]),
        ("## Object Detection (2019.04.23)", None, "2019-04-23", ["Object Detection"]),
        ("## 시계열 (2019.04.23)", None, "2019-04-23", ["시계열"]),
        ("## Topic", None, None, ["Topic"]),
        ("## 김철수 (2019.03.21) - 강화학습", "김철수", "2019-03-21", ["강화학습"]),
        ("## 김철수 (2019. 10.31)", "김철수", "2019-10-31", []),
        ("## Ryan Shin (2019.02.28)", "Ryan Shin", "2019-02-28", []),
        ("## J. Kim님 (2019.01.01)", "J. Kim", "2019-01-01", []),
        # A sentence that says 님 of someone is no contributor (dev corpus, 20_Mathematics.md).
        (
            "###### 1. 처음 시작은 김성훈 교수님 강의로",
            None,
            None,
            ["1. 처음 시작은 김성훈 교수님 강의로"],
        ),
        ("## 3. 충북대 이건명 교수님 강의", None, None, ["3. 충북대 이건명 교수님 강의"]),
    ],
)
def test_heading_shapes(heading, contributor, date, topics):
    result = parse_text(f"{heading}\n\n* [A title here](https://example.com/a)\n", "h.md")
    (resource,) = result.resources
    mention = resource.mentions[0]
    assert (mention.contributor, mention.date) == (contributor, date)
    assert resource.categories == topics


# ------------------------------------------------------------------ link shapes


def test_inline_contributor_before_link():
    result = parse_text("## 모음 (2019.05.01)\n\n* 홍길동님: [Deep Dive](https://ex.com/d)\n", "f")
    assert result.resources[0].mentions[0].contributor == "홍길동"
    assert result.resources[0].title == "Deep Dive"


def test_text_after_link_is_its_note_and_by_someone_kept():
    text = (
        "* [Deep Dive Into Nets](https://ex.com/d): 아주 좋은 글\n"
        "* [Repo Of Code](https://ex.com/r) by someone\n"
    )
    resources = by_url(parse_text(text, "f"))
    assert resources["https://ex.com/d"].mentions[0].note == "아주 좋은 글"
    assert resources["https://ex.com/r"].mentions[0].note == "by someone"


def test_link_text_that_is_the_url_takes_the_surrounding_text():
    text = (
        "A survey of papers at NIPS2016 https://t.co/abc\n* [https://ex.com/x](https://ex.com/x)\n"
    )
    resources = by_url(parse_text(text, "f"))
    assert resources["https://t.co/abc"].title == "A survey of papers at NIPS2016"
    bare = resources["https://ex.com/x"]
    assert bare.title == "https://ex.com/x"
    assert bare.title_is_placeholder


def test_autolink_and_html_anchor():
    text = '* 자료 <https://ex.com/auto>\n* <a href="https://ex.com/html">HTML Anchor Title</a>\n'
    resources = by_url(parse_text(text, "f"))
    assert resources["https://ex.com/auto"].title == "자료"
    assert resources["https://ex.com/html"].title == "HTML Anchor Title"


def test_table_like_row_with_category_before_title():
    text = "* 튜토리얼   Keras Basics Course   [https://ex.com/k](https://ex.com/k)\n"
    (resource,) = parse_text(text, "f").resources
    assert resource.title == "Keras Basics Course"
    assert "튜토리얼" in resource.categories


def test_markdown_table_row_with_generic_link_text():
    text = (
        "# 자료 모음\n\n## Detection\n\n|년도|알고리즘|링크|특징|\n|-|-|-|-|\n"
        "|2014|R-CNN|[논문](https://arxiv.org/abs/1311.2524)|Selective Search|\n"
        "|2016|Faster R-CNN|[논문](https://arxiv.org/abs/1506.01497),[한글](https://ex.kr/frcnn)|RPN|\n"
    )
    resources = by_url(parse_text(text, "f"))
    rcnn = resources["https://arxiv.org/abs/1311.2524"]
    assert rcnn.title == "R-CNN (논문)"
    assert rcnn.title_is_placeholder
    assert "알고리즘: R-CNN" in rcnn.mentions[0].note
    assert "특징: Selective Search" in rcnn.mentions[0].note
    assert rcnn.categories == ["Detection"]
    faster = resources["https://arxiv.org/abs/1506.01497"]
    assert faster.title == "Faster R-CNN (논문)"
    assert faster.companions == ["https://ex.kr/frcnn"]
    assert resources["https://ex.kr/frcnn"].title == "Faster R-CNN (한글)"


def test_generic_link_texts_take_the_bullet_text():
    text = "- PR001_Generative adversarial nets: [소개글](https://fb.com/1), [논문](https://arxiv.org/abs/1406.2661)\n"
    resources = by_url(parse_text(text, "f"))
    paper = resources["https://arxiv.org/abs/1406.2661"]
    assert paper.title == "PR001_Generative adversarial nets (논문)"
    assert paper.companions == ["https://fb.com/1"]


def test_nested_link_is_companion_and_nested_text_is_note():
    text = (
        "* [Main Article Title](https://ex.com/main)\n"
        "  * 코드: [Companion Repository](https://github.com/a/b)\n"
        "  * 댓글: 정말 유용합니다\n"
    )
    resources = by_url(parse_text(text, "f"))
    main = resources["https://ex.com/main"]
    assert main.companions == ["https://github.com/a/b"]
    assert "댓글: 정말 유용합니다" in main.mentions[0].note
    assert resources["https://github.com/a/b"].companions == ["https://ex.com/main"]


def test_label_bullet_gives_context_to_nested_links():
    text = "- MIT 6.S094: Deep Learning for Self-Driving Cars\n  * Homepage : [MIT](http://selfdrivingcars.mit.edu/)\n"
    (resource,) = parse_text(text, "f").resources
    assert resource.title == "MIT 6.S094: Deep Learning for Self-Driving Cars (MIT)"
    assert "MIT 6.S094: Deep Learning for Self-Driving Cars" in resource.categories


def test_section_without_links_becomes_a_note():
    text = (
        "## 홍길동 (2019.05.01)\n\n케라스 2.3에서 fit_generator가 없어집니다.\n\n"
        "## 다음\n\n* [X Y Z W](https://ex.com/x)\n"
    )
    result = parse_text(text, "notes.md")
    (note,) = result.notes
    assert note.contributor == "홍길동"
    assert note.date == "2019-05-01"
    assert note.text == "케라스 2.3에서 fit_generator가 없어집니다."
    assert note.line == 1
    assert len(result.resources) == 1


def test_placeholder_bullets_are_no_notes():
    text = (
        "# Paper\n\n-\n\n## 스마트폰\n\n- []\n- ...\n\n"
        "## 이름 (2019.05.01)\n\n* [A paper](https://ex.com/a)\n* [] \n"
    )
    result = parse_text(text, "placeholders.md")
    assert result.notes == []
    (liked,) = parse_text("## 좋아요\n\n👍👍\n", "liked.md").notes  # a symbol says something
    assert liked.text == "👍👍"
    (resource,) = result.resources
    assert [m.note for m in resource.mentions] == [""]  # "[]" is no context of the paper


def test_same_url_twice_with_tracking_parameters_merges():
    text = (
        "## 김가나 (2019.01.01)\n* [Shared Post](https://ex.com/p?id=3&utm_source=x&fbclid=abc)\n"
        "## 박다라 (2019.02.02)\n* [Shared Post](https://EX.com/p?id=3#top)\n"
    )
    (resource,) = parse_text(text, "f").resources
    assert resource.url == "https://ex.com/p?id=3"
    assert len(resource.original_urls) == 2
    assert [m.contributor for m in resource.mentions] == ["김가나", "박다라"]
    assert resource.dates == ["2019-01-01", "2019-02-02"]


def test_bracket_tag_becomes_category():
    (resource,) = parse_text("* [추천][Keras Lecture Series](https://ex.com/k)\n", "f").resources
    assert resource.title == "Keras Lecture Series"
    assert "추천" in resource.categories


def test_multiline_bullet_continuation_gives_title_context():
    text = "- PR003_Learning Phrase Representations\nfor Machine Translation: [논문](https://arxiv.org/abs/1406.1078)\n"
    (resource,) = parse_text(text, "f").resources
    assert resource.title == "PR003_Learning Phrase Representations for Machine Translation (논문)"


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("javascript:alert(1)", "unsupported scheme"),
        ("file:///etc/passwd", "unsupported scheme"),
        ("data:text/html,hi", "unsupported scheme"),
        ("https://github.com/…/tree/master", "truncated"),
        ("http://ex.com/a b", "whitespace"),
    ],
)
def test_broken_urls_are_kept_as_invalid_with_a_warning(url, reason):
    result = parse_text(f"* [Broken Link Here]({url})\n", "bad.md")
    (resource,) = result.resources
    assert resource.url_status == "invalid"
    assert reason in resource.invalid_reason
    assert any(str(w).startswith("bad.md:1:") for w in result.warnings)


def test_unbalanced_brackets_warn_and_keep_the_link():
    result = parse_text("intro\n\n- [git - 실습]http://learnbranch.urigit.com)\n", "u.md")
    assert [r.url for r in result.resources] == ["http://learnbranch.urigit.com/"]
    assert any(str(w).startswith("u.md:3:") and "malformed" in str(w) for w in result.warnings)


def test_files_that_are_not_clean_utf8(tmp_path):
    (tmp_path / "euckr.md").write_bytes("* [한글 제목 자료](https://ex.com/k)\n".encode("euc-kr"))
    (tmp_path / "binary.md").write_bytes(b"\x00\x01\x02PNG" * 100)
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nested.md").write_text("* [Nested File](https://ex.com/n)\n")
    (tmp_path / "ignored.txt").write_text("* [Not Markdown](https://ex.com/t)\n")
    result = parse_sources([tmp_path])
    assert sorted(r.url for r in result.resources) == ["https://ex.com/k", "https://ex.com/n"]
    assert by_url(result)["https://ex.com/k"].title == "한글 제목 자료"
    messages = [str(w) for w in result.warnings]
    assert any("euckr.md:1: not UTF-8" in m and "cp949" in m for m in messages)
    assert any("binary.md:1: binary file" in m for m in messages)
    assert any("empty.md:1: empty file" in m for m in messages)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_list_with_its_byte_order_mark_is_read(tmp_path, encoding):
    """Windows tools save "Unicode" text as UTF-16; it is not a binary file."""
    text = "## 홍길동 (2019.05.01)\n\n* [한글 제목 자료](https://ex.com/k)\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    (tmp_path / "windows.md").write_bytes(data)
    result = parse_sources([tmp_path / "windows.md"])
    assert [(r.url, r.title, r.contributors) for r in result.resources] == [
        ("https://ex.com/k", "한글 제목 자료", ["홍길동"])
    ]
    assert result.warnings == []


def test_huge_single_line_does_not_crash():
    line = "x" * 5_000_000 + " [Planted Link](https://ex.com/planted) " + "[(" * 1_000_000
    result = parse_text(line, "huge.md")
    assert [r.url for r in result.resources] == ["https://ex.com/planted"]


def test_missing_source_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        parse_sources([tmp_path / "nope.md"])


# ------------------------------------------------------------------ code


CODE_POST = """# 목록

## 김태영 (2019.03.03)

* [DIGITS 설치 안내](https://github.com/NVIDIA/DIGITS): 이렇게 설치했어요

```bash
# For Ubuntu 14.04
wget http://developer.download.nvidia.com/cuda-repo.deb
echo "[docs](https://example.com/in-code)"
```

## 이상훈 (2019.03.14)

* `https://example.com/inline-code` 는 인라인 코드로 쓴 주소
"""


def test_a_code_block_is_text_of_the_post_and_its_urls_are_not_links():
    result = parse_text(CODE_POST, "code.md")
    found = by_url(result)
    assert set(found) == {"https://github.com/NVIDIA/DIGITS", "https://example.com/inline-code"}
    digits = found["https://github.com/NVIDIA/DIGITS"].mentions[0]
    # The comment inside the block is no heading: the post is still 김태영's, and what the
    # block says is part of the post's note, its fence lines left out.
    assert digits.contributor == "김태영" and digits.section == "김태영 (2019.03.03)"
    assert "# For Ubuntu 14.04\nwget http://developer.download.nvidia.com" in digits.note
    assert "```" not in digits.note and "bash" not in digits.note.split("\n")
    [warning] = result.warnings
    assert (warning.line, warning.message) == (
        7,
        "URLs inside a code block are not indexed as links",
    )
    inline = found["https://example.com/inline-code"].mentions[0]
    assert inline.contributor == "이상훈"


def test_a_fence_never_closed_is_text_and_hides_nothing_after_it():
    text = (
        "## 김태영 (2019.03.03)\n\n```\n* [A](https://a.example/x)\n\n"
        "## 이상훈 (2019.03.14)\n\n* [B](https://b.example/y)\n"
    )
    result = parse_text(text, "open.md")
    people = {r.url: r.mentions[0].contributor for r in result.resources}
    assert people == {"https://a.example/x": "김태영", "https://b.example/y": "이상훈"}


def test_a_fence_closes_only_with_as_many_of_its_own_characters():
    text = (
        "## 김태영\n\n* [A](https://a.example/x)\n\n````md\n```\n[in](https://in.example/z)\n"
        "~~~~\n```\n````\n\n* [B](https://b.example/y)\n"
    )
    result = parse_text(text, "nested.md")
    assert set(by_url(result)) == {"https://a.example/x", "https://b.example/y"}
    assert len(result.warnings) == 1


def test_a_code_block_under_a_list_item_is_that_items_note_only():
    text = (
        "## 김태영 (2019.03.03)\n\n"
        "- [A](https://a.example/x) 설치 방법:\n"
        "    ```sh\n    pip install a  # https://pypi.example/a\n    ```\n"
        "- [B](https://b.example/y) 다른 자료\n"
        "    - [C](https://c.example/z) 하위 자료\n"
        "      ```\n      curl https://get.example/sh | sh\n      ```\n"
    )
    result = parse_text(text, "items.md")
    notes = {url: r.mentions[0].note for url, r in by_url(result).items()}
    assert notes == {
        "https://a.example/x": "설치 방법\n\npip install a  # https://pypi.example/a",
        "https://b.example/y": "다른 자료",
        "https://c.example/z": "하위 자료\n\ncurl https://get.example/sh | sh",
    }
    assert [w.line for w in result.warnings] == [4, 9]


def test_inline_code_written_with_three_backticks_opens_no_block():
    text = (
        "## 김태영 (2019.03.03)\n\n```pip install foo```\n\n- [A](https://a.example/x) a\n"
        "- [B](https://b.example/y) b\n\n```\n예제\n```\n"
    )
    result = parse_text(text, "inline.md")
    assert set(by_url(result)) == {"https://a.example/x", "https://b.example/y"}
    assert result.warnings == []


REFERENCE_POST = """## 이상훈 (2019.03.14)

* [ResNet][resnet] 잔차 연결
* [BERT] 사전학습 언어모델, [논문] 태그는 텍스트
* [Deep  Learning][] 책, `[resnet]` 은 코드
* ![구조도][img]

## 김태영 (2019.03.15)

```
[bert]: https://in-code.example/x
```

[ResNet]: <https://arxiv.org/abs/1512.03385> "Deep Residual Learning"
[bert]: https://arxiv.org/abs/1810.04805
[deep learning]: http://www.deeplearningbook.org/
[img]: https://example.com/diagram.png
[resnet]: https://later.example/ignored
[참고]: 위키
"""


def test_reference_links_are_the_links_of_the_items_that_use_them():
    found = by_url(parse_text(REFERENCE_POST, "refs.md"))
    resnet = found["https://arxiv.org/abs/1512.03385"]
    # [text][label], [label] alone and [label][] each link to their label's first definition
    # (labels match without case or runs of spaces): the item's own words are its note
    assert (resnet.title, resnet.mentions[0].note, resnet.mentions[0].line) == (
        "ResNet",
        "잔차 연결",
        3,
    )
    bert = found["https://arxiv.org/abs/1810.04805"].mentions[0]
    assert bert.note == "사전학습 언어모델, [논문] 태그는 텍스트"  # an undefined [label] is text
    book = found["http://www.deeplearningbook.org/"]
    assert book.title == "Deep Learning" and book.mentions[0].note == "책, [resnet] 은 코드"
    assert found["https://example.com/diagram.png"].title == "구조도"
    # a definition inside a code block is code; "[참고]: 위키" defines nothing; a label's
    # later definition is a link of its own
    assert "https://in-code.example/x" not in found and not any("위키" in url for url in found)
    assert found["https://later.example/ignored"].mentions[0].contributor == "김태영"
    # nothing of the definitions leaks into the post's notes
    notes = [m.note for r in found.values() for m in r.mentions if m.contributor == "이상훈"]
    assert len(notes) == 4 and not any("]:" in note or "[ResNet]" in note for note in notes)


def test_a_definition_no_reference_uses_is_still_a_resource():
    text = (
        "# Links\n\n[a]: https://a.example/page 'A Page'\n[b]: https://b.example/x\n"
        "[1]: https://c.example/y\n[b]: https://b2.example/z\n"
    )
    found = by_url(parse_text(text, "unused.md"))
    assert {url: r.title for url, r in found.items()} == {
        "https://a.example/page": "A Page",
        "https://b.example/x": "b",
        "https://c.example/y": "https://c.example/y",  # "[1]" names nothing: the page will
        "https://b2.example/z": "b",  # a label's later definition loses nothing either
    }
    assert found["https://c.example/y"].title_is_placeholder
    assert [r.mentions[0].line for r in found.values()] == [3, 4, 5, 6]


SETEXT_LIST = """---
title: 딥러닝 자료
---
Deep Learning Resources
=======================

Computer Vision
---------------

* [YOLO](https://pjreddie.com/darknet/yolo/) 실시간 객체 검출
* [SSD](https://arxiv.org/abs/1512.02325)
---
* [GloVe](https://nlp.stanford.edu/projects/glove/)

Natural Language
Processing
----

* * *

```
not a heading
---
```
* [BERT](https://arxiv.org/abs/1810.04805) 사전학습
"""


def test_setext_headings_are_sections_and_thematic_breaks_say_nothing():
    result = parse_text(SETEXT_LIST, "setext.md")
    sections = {r.title: (r.mentions[0].section, r.mentions[0].line) for r in result.resources}
    # the only level-1 heading, first after the front matter, is the document's title
    assert sections == {
        "YOLO": ("Computer Vision", 10),
        "SSD": ("Computer Vision", 11),
        "GloVe": ("Computer Vision", 13),  # "---" under a list item is a break, no heading
        "BERT": ("Natural Language Processing", 25),  # a heading of two lines
    }
    notes = {r.title: r.mentions[0].note for r in result.resources}
    assert notes["YOLO"] == "실시간 객체 검출" and notes["GloVe"] == ""
    assert notes["BERT"] == "사전학습\n\nnot a heading\n---"  # code keeps its "---"
    assert result.warnings == [] and result.notes == []  # the front matter is no note
    # "---" first and later is front matter only when all between is YAML (found by
    # hypothesis: the link between them was lost)
    between = parse_text("---\n[t](http://a.example/x)\n---\n", "breaks.md")
    assert [r.url for r in between.resources] == ["http://a.example/x"]


def test_a_linked_image_is_its_link_named_by_the_alt_text():
    notebook = "https://colab.research.google.com/github/keras-team/keras-io/blob/master/x.ipynb"
    text = (
        "## 노트북\n\n"
        "* Keras 튜토리얼 노트북 [![Open In Colab](https://colab.research.google.com/assets/"
        f"colab-badge.svg)]({notebook})\n"
        "* [![YOLO demo](https://img.youtube.com/vi/MPU2HistivI/0.jpg)]"
        "(https://www.youtube.com/watch?v=MPU2HistivI) 데모 영상\n"
        '* [<img src="https://e.com/icon.png" alt="Keras"> docs](https://keras.io/)\n'
    )
    result = parse_text(text, "badges.md")
    # the badge and the thumbnail are decoration: the links are the resources
    assert {r.url: r.title for r in result.resources} == {
        notebook: "Keras 튜토리얼 노트북",  # a badge's words name nothing
        "https://www.youtube.com/watch?v=MPU2HistivI": "YOLO demo",
        "https://keras.io/": "Keras docs",
    }
    assert all(not r.companions for r in result.resources) and result.warnings == []


def test_a_block_quote_is_read_as_what_it_quotes():
    text = (
        "## 김태영 (2019.03.03)\n\n"
        "> * [A](https://a.example/x) 첫째\n"
        ">   > 인용 속 인용\n"
        ">\n"
        "> ```\n> pip install https://c.example/pkg\n> ```\n"
    )
    result = parse_text(text, "quote.md")
    # a quoted list is a list, a quoted fence a code block: the notes hold no ">"
    [only] = result.resources
    assert (only.url, only.mentions[0].note) == (
        "https://a.example/x",
        "첫째\n인용 속 인용\n\npip install https://c.example/pkg",
    )
    assert [(w.line, w.message) for w in result.warnings] == [
        (6, "URLs inside a code block are not indexed as links")
    ]
    # a quote under a list item, after a blank line, is still that item's note
    nested = parse_text(
        "* [B](https://b.example/y)\n\n  > 인용 설명\n\n* [C](https://c.example/z)\n", "q.md"
    )
    assert {r.url: r.mentions[0].note for r in nested.resources} == {
        "https://b.example/y": "인용 설명",
        "https://c.example/z": "",
    }


def categories_and_notes(text: str) -> dict[str, tuple[list[str], str]]:
    """Each resource's categories and first note, by its title."""
    resources = parse_text(text, "shapes.md").resources
    return {r.title: (r.categories, r.mentions[0].note) for r in resources}


def test_an_html_heading_is_a_heading_and_a_task_box_no_tag():
    text = (
        '<h2 align="center">Papers <b>2017</b></h2>\n<ul>\n'
        '  <li><a href="https://arxiv.org/abs/1706.03762">Attention</a> - 트랜스포머</li>\n'
        "</ul>\n\n"
        "## Tasks\n\n- [x] [Keras](https://keras.io/) 공식 문서\n- [ ] [PyTorch](https://pytorch.org/)\n"
    )
    assert categories_and_notes(text) == {
        "Attention": (["Papers 2017"], "트랜스포머"),  # the heading's words are no note
        "Keras": (["Tasks"], "공식 문서"),  # "[x]" is a ticked box, not a tag "x"
        "PyTorch": (["Tasks"], ""),
    }


def test_a_tables_later_link_is_named_by_the_rows_first_link_and_notes_stay_in_their_cell():
    text = (
        "## Papers\n\n| Title | Year | Code |\n|---|---|---|\n"
        "| [Attention Is All You Need](https://arxiv.org/abs/1706.03762) 원조 | 2017 | "
        "[code](https://github.com/tensorflow/tensor2tensor) 공식 |\n"
        "| Deep Residual Learning | 2015 | [pdf](https://arxiv.org/pdf/1512.03385.pdf) |\n"
        "| [Pipes](https://e.com/pipes) a \\| b | 2020 | |\n"
    )
    found = {r.title: r.mentions[0].note for r in parse_text(text, "table.md").resources}
    assert found == {
        # before: "2017 (code)", and the cells after a link were its note ("2017")
        "Attention Is All You Need": "원조\n\nYear: 2017",
        "Attention Is All You Need (code)": "공식\n\nYear: 2017",
        "Deep Residual Learning (pdf)": "Title: Deep Residual Learning; Year: 2015",
        "Pipes": "a | b\n\nYear: 2020",  # "\\|" is a "|" of the cell, not a new cell
    }


def test_emoji_shortcodes_are_pictures_not_words():
    text = (
        "## :books: Books\n\n"
        "- :star: [Dropout](https://jmlr.org/papers/v15/srivastava14a.html) :fire::fire: 필독\n"
        "- [C++ std::vector 정리](https://e.com/vector) 12:30:00에 올림\n"
    )
    assert categories_and_notes(text) == {
        "Dropout": (["Books"], "필독"),  # was "star (Dropout)", noted "fire::fire: 필독"
        "C++ std::vector 정리": (["Books"], "12:30:00에 올림"),
    }


def test_a_collapsible_blocks_summary_heads_its_links_and_is_no_note():
    text = (
        "# Awesome\n\n## Papers\n\n설명 문단\n\n"
        "- [A](https://a.example/x)\n\n"
        "<details><summary>Older <b>papers</b></summary>\n\n"
        "- [B](https://b.example/y) (2006)\n\n</details>\n\n"
        "- [C](https://c.example/z)\n"
    )
    assert categories_and_notes(text) == {
        "A": (["Papers"], "설명 문단"),
        "B": (["Papers", "Older papers"], "(2006)"),  # its note's bracket closes: it is kept
        "C": (["Papers"], ""),  # after the block: under Papers again, not "Older papers"
    }
    # under the document's title (or no heading), the block's end heads nothing
    top = "# Doc\n<details><summary>Top</summary>\n\n- [T1](https://t1.example)\n\n</details>\n"
    assert categories_and_notes(top + "\n- [T2](https://t2.example) 끝 (요약)))\n") == {
        "T1": (["Top"], ""),
        "T2": ([], "끝 (요약)"),  # the brackets the note did not open are not its own
    }


def test_a_link_whose_text_says_nothing_is_named_by_the_items_earlier_link():
    text = (
        "## Papers\n\n"
        "- [Attention Is All You Need](https://arxiv.org/abs/1706.03762) "
        "[[code](https://github.com/tensorflow/tensor2tensor)]\n"
        "- 2017-01 [Playing Atari](https://e.com/notes/dqn) [[arXiv](https://arxiv.org/abs/1312.5602)]\n"
        "- ★★★[Yannic Kilcher](https://www.youtube.com/c/YannicKilcher)\n"
        "- [Keras](https://keras.io/), [PyTorch](https://pytorch.org/)\n"
        "- [KoNLPy](https://konlpy.org/) - 형태소 분석기 ([GitHub](https://github.com/konlpy/konlpy))\n"
        "- *Striving for Simplicity* [[arxiv]](https://arxiv.org/abs/1412.6806) _요약_\n"
    )
    assert {r.url: (r.title, r.mentions[0].note) for r in parse_text(text, "p.md").resources} == {
        "https://arxiv.org/abs/1706.03762": ("Attention Is All You Need", ""),
        # before: "Papers (code)", the section's name
        "https://github.com/tensorflow/tensor2tensor": ("Attention Is All You Need (code)", ""),
        "https://e.com/notes/dqn": ("Playing Atari", ""),  # before: "2017-01 (Playing Atari)"
        "https://arxiv.org/abs/1312.5602": ("Playing Atari (arXiv)", ""),
        "https://www.youtube.com/c/YannicKilcher": ("Yannic Kilcher", ""),  # not "★★★ (…)"
        "https://keras.io/": ("Keras", ""),
        "https://pytorch.org/": ("PyTorch", ""),  # a name, not "Keras (PyTorch)"
        "https://konlpy.org/": ("KoNLPy", "형태소 분석기"),  # the next link's "(" is not its
        "https://github.com/konlpy/konlpy": ("형태소 분석기 (GitHub)", ""),
        "https://arxiv.org/abs/1412.6806": ("Striving for Simplicity (arxiv)", "요약"),
    }


def test_badges_are_decoration_and_a_table_of_contents_is_navigation():
    text = (
        "# Awesome NLP [![Awesome](https://awesome.re/badge.svg)](https://awesome.re)\n\n"
        "## Table of Contents\n\n- [Libraries](#libraries)\n  - [Korean](#korean)\n\n"
        "### Libraries\n\n"
        "* [transformers](https://github.com/huggingface/transformers) "
        "![GitHub stars](https://img.shields.io/github/stars/huggingface/transformers) - 최신 NLP\n"
        "* [spaCy](https://github.com/explosion/spaCy) "
        "[![stars](https://img.shields.io/github/stars/explosion/spaCy)]"
        "(https://github.com/explosion/spaCy/stargazers) - Industrial NLP\n\n"
        "**[⬆ back to top](#table-of-contents)**\n"
    )
    found = categories_and_notes(text)
    assert found == {
        "Awesome NLP": ([], ""),  # the badge around the title's link names nothing
        "transformers": (["Libraries"], "최신 NLP"),  # the stars badge is no resource
        "spaCy": (["Libraries"], "Industrial NLP"),  # the link around a badge is (stargazers)
    }
    urls = {r.url for r in parse_text(text, "b.md").resources}
    assert not any("shields.io" in url or url.startswith("#") for url in urls)
    assert parse_text(text, "b.md").notes == []  # "back to top", the contents: nothing


def urls_by_line(text: str) -> dict[str, int]:
    return {r.url: r.mentions[0].line for r in parse_text(text, "shapes.md").resources}


def test_shapes_that_look_like_the_new_constructs_lose_no_link():
    # (from a review) a list between two "---" is no front matter
    breaks = "---\n# Awesome List\n- [A](https://a.com)\n- [B](https://b.com)\n---\n- [C](https://c.com)\n"
    assert urls_by_line(breaks) == {"https://a.com/": 3, "https://b.com/": 4, "https://c.com/": 6}
    assert set(urls_by_line("---\n분류: [A](https://a.com)\n- [B](https://b.com)\n---\n")) == {
        "https://a.com/",
        "https://b.com/",
    }
    # "[논문]: url" under a list item goes on that item: no definition, the tag elsewhere text
    tags = (
        "## NLP\n\n- Attention Is All You Need\n  [논문]: https://arxiv.org/abs/1706.03762\n"
        "  [코드]: https://github.com/tensorflow/tensor2tensor\n- BERT [논문] 정리\n"
        "  [논문]: https://arxiv.org/abs/1810.04805\n"
    )
    found = by_url(parse_text(tags, "tags.md"))
    assert {url: r.mentions[0].line for url, r in found.items()} == {
        "https://arxiv.org/abs/1706.03762": 4,
        "https://github.com/tensorflow/tensor2tensor": 5,
        "https://arxiv.org/abs/1810.04805": 7,
    }
    assert found["https://arxiv.org/abs/1706.03762"].title.startswith("Attention Is All You Need")
    # a fence opened in a quote and never closed there swallows nothing after the quote
    fence = "> ```\n> pip install foo\n\n## Links\n- [A](https://a.com)\n- [B](https://b.com)\n\n```\nmake\n```\n"
    assert urls_by_line(fence) == {"https://a.com/": 5, "https://b.com/": 6}
    # a quoted heading heads nothing outside its quote
    quoted = parse_text("## Papers\n\n> ### 참고\n\n- [A](https://a.com)\n", "q.md")
    assert quoted.resources[0].mentions[0].section == "Papers"


def test_setext_lookalikes_are_no_headings():
    sections = lambda text: {  # noqa: E731
        r.url: r.mentions[0].section for r in parse_text(text, "s.md").resources
    }
    table = "## Tools\n\nName | Link\n--- | ---\nA | [Alpha](https://a.com)\n---\n- [C](https://c.com)\n"
    assert sections(table) == {"https://a.com/": "Tools", "https://c.com/": "Tools"}
    links = "## Tools\n\n[A](https://a.com) 설명\n[B](https://b.com)\n---\n"
    assert sections(links) == {"https://a.com/": "Tools", "https://b.com/": "Tools"}
    for text in (
        "## Tools\n\n> Curated list of papers\n---\n- [A](https://a.com)\n",
        "## Tools\n\n- [A](https://a.com)\n\n  Details\n  ---\n- [B](https://b.com)\n",
    ):
        assert set(sections(text).values()) == {"Tools"}, text
    # two setext headings one after the other
    two = "Title\n=====\nSubtitle\n--------\n\n- [A](https://a.com)\n"
    assert sections(two) == {"https://a.com/": "Subtitle"}


def test_reference_badges_and_indented_definitions():
    badge = (
        "[![Awesome][badge]][link]\n\n[badge]: https://awesome.re/badge.svg\n"
        "[link]: https://github.com/sindresorhus/awesome\n"
    )
    assert {r.url: r.title for r in parse_text(badge, "b.md").resources} == {
        "https://github.com/sindresorhus/awesome": "Awesome"
    }
    indented = "1. [BERT](https://arxiv.org/abs/1810.04805)\n\n    [code]: https://github.com/google/bert\n"
    bert = by_url(parse_text(indented, "i.md"))["https://arxiv.org/abs/1810.04805"]
    assert bert.companions == ["https://github.com/google/bert"]


def test_an_html_image_is_a_link_titled_by_its_alt_text():
    text = '* <img src="https://example.com/x.png" alt="구조도"> 그림\n* <IMG SRC="https://e.com/y.png">\n'
    found = by_url(parse_text(text, "img.md"))
    assert found["https://example.com/x.png"].title == "구조도"
    assert found["https://example.com/x.png"].mentions[0].note == "그림"
    assert found["https://e.com/y.png"].title_is_placeholder  # no alt text: the URL stands in
