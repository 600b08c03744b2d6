"""Interface text in Korean and English (Korean by default), and the engine's phrases in both."""

from __future__ import annotations

import re

LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"
LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}

_STRINGS: dict[str, tuple[str, str]] = {
    # key: (Korean, English)
    "app_title": ("Recall", "Recall"),
    "tagline": (
        "커뮤니티가 공유한 자료를 한국어나 영어로 찾아보세요",
        "Search what the community has shared, in Korean or English",
    ),
    "search_label": ("검색어", "Search"),
    "placeholder": (
        "무엇을 찾고 있나요? 예: LSTM으로 시계열 예측, 자연어 처리 책",
        "What are you looking for? e.g. time series with LSTM, Korean NLP book",
    ),
    "nav_search": ("검색", "Search"),
    "nav_status": ("색인 상태", "Index status"),
    "language": ("언어", "Language"),
    "filters": ("필터", "Filters"),
    "choose": ("선택하세요", "Choose"),
    "contributor": ("공유한 사람", "Contributor"),
    "by_date": ("기간으로 거르기", "Filter by date"),
    "since": ("시작일", "From"),
    "until": ("종료일", "To"),
    "type": ("종류", "Type"),
    "domain": ("사이트", "Site"),
    "advanced": ("고급 설정", "Advanced"),
    "mode": ("검색 방식", "Retrieval mode"),
    "mode_hybrid": ("하이브리드", "Hybrid"),
    "mode_dense": ("의미 검색", "Semantic"),
    "mode_lexical": ("키워드 검색", "Keyword"),
    "clear_filters": ("필터 지우기", "Clear filters"),
    "results_count": ("결과 {n}건 · {ms:.0f} ms", "{n} results · {ms:.0f} ms"),
    "no_results": ("검색 결과가 없습니다.", "No matching resources."),
    "no_results_filters": (
        "이 필터에 맞는 결과가 없습니다. 필터를 줄여 보세요.",
        "Nothing matches these filters. Try removing some.",
    ),
    "truncated": (
        "검색어가 너무 길어 앞부분만 사용했습니다.",
        "The query was too long; only its beginning was used.",
    ),
    "more": ("결과 더 보기", "Show more results"),
    "no_close_match": (
        "가까운 자료가 없습니다. 아래는 덜 관련된 결과입니다.",
        "No close match. Below are less related results.",
    ),
    "absent_terms": (
        "이 모음의 자료에는 {terms}(이)라는 말이 나오지 않습니다.",
        "Nothing in this collection mentions {terms}.",
    ),
    "less_related": ("덜 관련된 결과 ({n})", "Less related ({n})"),
    "source_files": ("목록과 대화 파일", "Lists and chat exports"),
    "source_file": ("파일", "File"),
    "source_reader": ("형식", "Format"),
    "source_messages": ("메시지", "Messages"),
    "source_links": ("링크", "Links"),
    "source_members": ("참여자", "Members"),
    "source_dates": ("기간", "Dates"),
    "details": ("자세히", "Details"),
    "related": ("관련 자료", "Related"),
    "no_related": ("관련 자료가 없습니다.", "No related resources."),
    "why": ("찾은 이유", "Why"),
    "filed_under": ("분류", "Filed under"),
    "note": ("메모", "Note"),
    "passage": ("일치한 부분", "Best match"),
    "also_at": ("같은 자료의 다른 주소", "Also posted as"),
    "dead_link": ("끊긴 링크", "Dead link"),
    "last_seen": ("마지막 확인 {date}", "last seen alive {date}"),
    "never_seen": ("한 번도 열리지 않음", "never seen alive"),
    "invalid_link": ("잘못된 링크", "Invalid link"),
    "not_checked": ("아직 확인 안 함", "not checked yet"),
    "kept_text": ("보관된 본문 보기", "Read the kept text"),
    "export": ("내보내기", "Export"),
    "export_md": ("마크다운 저장", "Markdown"),
    "export_csv": ("CSV 저장", "CSV"),
    "export_show": ("채팅용 마크다운 보기", "Show markdown for the chat"),
    "export_copy": (
        "채팅에 붙여넣을 마크다운 (오른쪽 위 버튼으로 복사)",
        "Markdown to paste into the chat (copy button at the top right)",
    ),
    "front_newest": ("최근 공유된 자료", "Newest resources"),
    "front_contributors": ("공유한 사람들", "Contributors"),
    "front_types": ("종류별 자료 수", "Resources by type"),
    "front_more_people": ("외 {n}명", "and {n} more"),
    "front_counts": (
        "자료 {resources}건 · 메모 {notes}건 · {first} ~ {last}",
        "{resources} resources · {notes} notes · {first} to {last}",
    ),
    "count": ("건수", "Count"),
    "back": ("← 검색으로 돌아가기", "← Back to search"),
    "not_found": ("이 자료를 찾을 수 없습니다: {ref}", "No resource {ref} in this index."),
    "mentions": ("언급 {n}회", "Mentions ({n})"),
    "mention_at": ("{source} {line}번째 줄", "{source}, line {line}"),
    "chat_context": (
        "{time} 앞선 대화 (다른 참여자들의 말이며, 공유한 사람의 메모가 아닙니다)",
        "Conversation before {time} (what others said, not the contributor's note)",
    ),
    "companions": ("함께 공유된 링크", "Posted together"),
    "page_text": ("추출된 페이지 본문 ({n}자)", "Extracted page text ({n} characters)"),
    "page_text_cut": (
        "앞의 {shown}자만 표시합니다 (전체 {n}자).",
        "Showing the first {shown} of {n} characters.",
    ),
    "description": ("페이지 설명", "Page description"),
    "status_title": ("색인 상태", "Index status"),
    "built": ("생성 시각", "Built at"),
    "build_id": ("빌드 ID", "Build id"),
    "model": ("임베딩 모델", "Embedding model"),
    "resources": ("자료", "Resources"),
    "notes": ("메모", "Notes"),
    "passages": ("구절", "Passages"),
    "size": ("크기", "Size"),
    "tokenizer": ("토크나이저", "Tokenizer"),
    "dense_index": ("벡터 색인", "Vector index"),
    "index_dir": ("색인 위치", "Index"),
    "build_dir": ("빌드 폴더", "Build folder"),
    "fetch_counts": ("페이지 수집 상태", "Fetch statuses"),
    "status": ("상태", "Status"),
    "unavailable": ("정상이 아닌 링크 ({n})", "Links not known to be alive ({n})"),
    "none_unavailable": ("모든 링크가 정상입니다.", "Every link is reachable."),
    "link_health": ("링크 상태", "Link health"),
    "health_groups": (
        "끊김 {dead} · 일시적으로 닿지 않음 {unreachable} · 아직 확인 안 함 {unchecked} · "
        "수집 불가 {unfetchable}",
        "dead {dead} · unreachable for now {unreachable} · not checked yet {unchecked} · "
        "unfetchable {unfetchable}",
    ),
    "title": ("제목", "Title"),
    "url": ("주소", "URL"),
    "last_seen_column": ("마지막 정상 확인", "Last seen alive"),
    "sources": ("원본 목록", "Source lists"),
    "rebuild": ("색인을 다시 만드는 명령", "Rebuild the index with"),
    "no_index_title": ("아직 색인이 없습니다", "There is no index yet"),
    "no_index_body": (
        "검색하려면 먼저 자료 목록으로 색인을 만들어야 합니다. 프로젝트 폴더에서 아래 "
        "명령을 실행한 뒤 이 페이지를 새로 고치세요.",
        "Build an index from the resource lists first: run this in the project folder, "
        "then reload this page.",
    ),
    "index_problem_title": ("색인을 열 수 없습니다", "The index cannot be opened"),
    "index_location": ("찾아본 위치: {path}", "Looked in: {path}"),
    "loading": ("모델과 색인을 불러오는 중…", "Loading the model and the index…"),
    "searching": ("검색 중…", "Searching…"),
    "add_title": ("자료 추가", "Add a resource"),
    "add_url": ("주소", "URL"),
    "add_note": ("메모 (선택)", "Note (optional)"),
    "add_name": ("이름 (선택)", "Name (optional)"),
    "add_token": ("추가 토큰", "Add token"),
    "add_submit": ("추가", "Add"),
    "add_done": ("추가했습니다. 이제 검색됩니다.", "Added: it is searchable now."),
    "add_not_searchable": (
        "목록에 추가했지만 아직 색인에 없습니다.",
        "Added to the list, but not in the index yet.",
    ),
    "add_already": (
        "이미 있던 곳: {where} (언급이 하나 늘었습니다)",
        "Already in {where} (one more mention)",
    ),
    "add_refused": (
        "추가하지 않았습니다. 아무것도 쓰지 않았습니다:",
        "Not added, nothing was written:",
    ),
    "add_unpublished": (
        "목록에는 추가했지만 색인을 만들지 못했습니다:",
        "Added to the list, but the index could not be published:",
    ),
    "add_bad_token": (
        "토큰이 맞지 않습니다. 아무것도 쓰지 않았습니다.",
        "Wrong token: nothing was written.",
    ),
    "add_rate": (
        "추가는 1분에 {limit}번까지입니다. {seconds}초 뒤에 다시 시도하세요.",
        "At most {limit} adds a minute: try again in {seconds} s.",
    ),
}

_TYPES = {
    "paper": ("논문", "paper"),
    "repo": ("저장소", "repo"),
    "video": ("영상", "video"),
    "book": ("책", "book"),
    "article": ("글", "article"),
    "pdf": ("PDF", "PDF"),
    "note": ("메모", "note"),
    "other": ("기타", "other"),
}

# The engine explains matches in English; each phrase maps to its Korean form. Who posted
# two resources together comes first in Korean: "posted together by A" -> "A 님이 함께 공유".
_WHY_PEOPLE = [
    (re.compile(r"posted together by ([^;]+)"), r"\1 님이 함께 공유"),
    (re.compile(r"same post by ([^;]+)"), r"\1 님이 같은 글에서 공유"),
]
# The kinds of resource a question asks for (indexer/data/type_words.tsv's intents).
_INTENTS = {
    "paper": "논문",
    "lecture": "강의",
    "book": "책",
    "code": "코드",
    "tutorial": "튜토리얼",
    "video": "영상",
    "slides": "슬라이드",
    "article": "글",
}
_WHY_INTENTS = re.compile(r"the kind asked for: ([a-z, ]+)")
_WHY_PHRASES = [
    ("similar meaning in the list entry", "목록 항목과 의미가 비슷함"),
    ("similar meaning in the notes", "메모와 의미가 비슷함"),
    ("similar meaning in the page text", "페이지 본문과 의미가 비슷함"),
    ("best available match", "가장 가까운 자료"),
    ("posted together", "함께 공유됨"),
    ("same post", "같은 글에서 공유됨"),
    ("similar topic:", "비슷한 주제:"),
    ("similar content", "비슷한 내용"),
    ("words:", "일치 단어:"),
]


def t(lang: str, key: str, **values) -> str:
    """The interface string `key` in `lang` (English for an unknown language)."""
    korean, english = _STRINGS[key]
    text = korean if lang == "ko" else english
    return text.format(**values) if values else text


def type_label(lang: str, kind: str) -> str:
    """A resource type's name; types the interface does not know are shown as they are."""
    names = _TYPES.get(kind)
    if names is None:
        return kind
    return names[0] if lang == "ko" else names[1]


def why_text(lang: str, why: str) -> str:
    """The engine's "why it matched" in the interface language."""
    if lang != "ko":
        return why
    for pattern, korean in _WHY_PEOPLE:
        why = pattern.sub(korean, why)
    why = _WHY_INTENTS.sub(
        lambda asked: (
            "찾는 종류: "
            + ", ".join(_INTENTS.get(kind, kind) for kind in asked.group(1).split(", "))
        ),
        why,
    )
    for english, korean in _WHY_PHRASES:
        why = why.replace(english, korean)
    return why
