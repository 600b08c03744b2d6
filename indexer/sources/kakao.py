"""KakaoTalk "대화 내보내기" exports: which format a text is in, and the messages it holds."""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

LINES_TABLE = Path(__file__).resolve().parents[1] / "data" / "kakao_lines.tsv"

_CLOCK = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})"
_KO_AMPM = r"(?:(?P<ampm>오전|오후) )?"
_EN_AMPM = r"(?: ?(?P<ampm>[AaPp]\.?[Mm]\.?))?"
# Mobile lines: a timestamp, then ", sender : text" for a message or ": notice" (iOS) or
# ", notice" (Android) for what the app wrote.
_MOBILE_TAIL = r"(?P<sep>[,:]) ?(?P<rest>.*)$"


@dataclass(frozen=True)
class _Format:
    name: str
    message: re.Pattern
    day: re.Pattern  # PC: the day separator dating the lines below; mobile: day lines


_FORMATS = (
    _Format(
        "kakao-pc",  # Windows, Korean or English: [이름] [오후 3:12] text
        re.compile(
            r"^\[(?P<sender>.*?)\] \[(?:(?P<ampm>오전|오후|AM|PM) )?"
            + _CLOCK
            + r"(?: (?P<ampm2>AM|PM|am|pm))?\](?: (?P<text>.*))?$"
        ),
        re.compile(
            r"^-{3,} (?:(?P<year>\d{4})년 (?P<month>\d{1,2})월 (?P<day>\d{1,2})일(?: \S+)?"
            r"|(?:[A-Za-z]+, )?(?P<monthname>[A-Za-z]+\.?) (?P<day2>\d{1,2}), (?P<year2>\d{4}))"
            r" -{3,}$"
        ),
    ),
    _Format(
        "kakao-android",  # 2019년 2월 22일 오후 3:12, 이름 : text
        re.compile(
            r"^(?P<year>\d{4})년 (?P<month>\d{1,2})월 (?P<day>\d{1,2})일 "
            + _KO_AMPM
            + _CLOCK
            + _MOBILE_TAIL
        ),
        re.compile(r"^\d{4}년 \d{1,2}월 \d{1,2}일(?: \S+요일| (?:오전|오후) \d{1,2}:\d{2})?$"),
    ),
    _Format(
        "kakao-ios",  # 2019. 2. 22. 오후 3:12, 이름 : text
        re.compile(
            r"^(?P<year>\d{4})\. ?(?P<month>\d{1,2})\. ?(?P<day>\d{1,2})\. "
            + _KO_AMPM
            + _CLOCK
            + _MOBILE_TAIL
        ),
        re.compile(r"^(?:\d{4}년 \d{1,2}월 \d{1,2}일|\d{4}\. ?\d{1,2}\. ?\d{1,2}\.) \S+요일$"),
    ),
    _Format(
        "kakao-mobile-en",  # February 22, 2019, 3:12 PM, Name : text (or 15:12)
        re.compile(
            r"^(?P<monthname>[A-Za-z]{3,9}\.?) (?P<day>\d{1,2}), (?P<year>\d{4}),? "
            + _CLOCK
            + _EN_AMPM
            + _MOBILE_TAIL
        ),
        re.compile(
            r"^(?:[A-Za-z]+, )?[A-Za-z]+\.? \d{1,2}, \d{4}(?:,? \d{1,2}:\d{2}(?: ?[AaPp][Mm])?)?$"
        ),
    ),
    _Format(
        "kakao-mobile-en-time-first",  # older Android: 3:12pm, February 22, 2019, Name : text
        re.compile(
            r"^" + _CLOCK + r" ?(?P<ampm>[AaPp][Mm]), (?P<monthname>[A-Za-z]+\.?) "
            r"(?P<day>\d{1,2}), (?P<year>\d{4})" + _MOBILE_TAIL
        ),
        re.compile(r"^\d{1,2}:\d{2} ?[AaPp][Mm], [A-Za-z]+\.? \d{1,2}, \d{4}$"),
    ),
)
MAC_CSV = "kakao-mac-csv"
_CSV_HEADER = ["Date", "User", "Message"]
_CSV_TIME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{2})(?::\d{2})?")

_ROOM_HEADERS = (
    re.compile(r"^(?P<room>.+?) 님과 카카오톡 대화$"),
    re.compile(r"^(?P<room>.+?)(?: \(\d+명\))?과 카카오톡 대화(?:-\d+)?(?:\.txt)?$"),
    re.compile(r"^KakaoTalk Chats with (?P<room>.+?)(?: \(\d+(?: people)?\))?(?:-\d+)?(?:\.txt)?$"),
    re.compile(r"^(?P<room>.+?) with KakaoTalk Chats$"),
)
_SAVED = re.compile(r"^(?:저장한 날짜|Date Saved) ?: ")
# File names the apps give exports: the room is inside the Mac one only.
_FILE_ROOM = re.compile(r"^KakaoTalk_?Chats?_(?P<room>.+?)_\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$")
_SENDER_SPLIT = re.compile(r"^(?P<sender>.+?) :(?: (?P<text>.*))?$")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august")
_MONTHS += ("september", "october", "november", "december")
_SNIFF_CHARS, _SNIFF_LINES = 100_000, 300
_ODD_SPACES = re.compile("[\u202f\u00a0\u2009]")  # iOS writes a narrow space before "PM"


@dataclass(slots=True)
class ChatMessage:
    """One message as the export shows it: when, who, what (lines joined), and where."""

    time: datetime
    sender: str
    text: str
    line: int


@dataclass
class ChatExport:
    format: str
    room: str
    messages: list[ChatMessage] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


@functools.cache
def _patterns(kind: str) -> re.Pattern:
    """The table's patterns of one kind as one case-insensitive whole-text pattern."""
    with LINES_TABLE.open(encoding="utf-8", newline="") as table:
        rows = csv.reader(table, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = [row for row in rows if row and row[0][:1] != "#"]
    patterns = [row[1] for row in rows[1:] if row[0] == kind]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE | re.DOTALL)


def is_placeholder(text: str) -> bool:
    """Whether a message only stands for a photo, an emoticon, a file or a deleted message."""
    return bool(_patterns("placeholder").fullmatch(text.strip()))


def _is_system(text: str) -> bool:
    return bool(_patterns("system").fullmatch(text.strip()))


def detect(text: str) -> str | None:
    """The export format of a text, or None when it is not a KakaoTalk export."""
    lines = _head(_ODD_SPACES.sub(" ", text[:_SNIFF_CHARS]))
    first = next((line.strip() for line in lines if line.strip()), "")
    if [cell.strip() for cell in next(csv.reader([first]), [])] == _CSV_HEADER:
        return MAC_CSV
    header = any(p.match(first) for p in _ROOM_HEADERS) or any(map(_SAVED.match, lines[:4]))
    # (message lines, day lines) per format; a list may have date lines, never messages
    scores = {
        fmt.name: (_count_matches(fmt.message, lines), _count_matches(fmt.day, lines))
        for fmt in _FORMATS
    }
    name, (messages, days) = max(scores.items(), key=lambda item: item[1])
    return name if messages >= 2 or (header and messages + days) else None


def _count_matches(pattern: re.Pattern, lines: list[str]) -> int:
    """How many lines the pattern matches at their start."""
    return len(list(filter(pattern.match, lines)))


def _head(text: str) -> list[str]:
    return text[:_SNIFF_CHARS].splitlines()[:_SNIFF_LINES]


def _month(name: str) -> int | None:
    """January, Jan, Jan. or Sept as a month number."""
    key = name.rstrip(".").lower()
    if len(key) < 3:
        return None
    return next((n for n, full in enumerate(_MONTHS, 1) if full.startswith(key)), None)


def _day(groups: dict) -> date | None:
    return _calendar_day(
        groups.get("year") or groups.get("year2"),
        groups.get("month"),
        groups.get("monthname"),
        groups.get("day") or groups.get("day2"),
    )


@functools.lru_cache(maxsize=4096)  # a day's messages all ask for the same day
def _calendar_day(year: str, month: str | None, monthname: str | None, day: str) -> date | None:
    number = int(month) if month else _month(monthname or "")
    try:
        return date(int(year), number, int(day)) if number else None
    except ValueError:
        return None


def _clock(groups: dict) -> tuple[int, int] | None:
    """Hours and minutes, with 오전/오후 and AM/PM read the way KakaoTalk writes 12 o'clock."""
    hour, minute = int(groups["hour"]), int(groups["minute"])
    ampm = (groups.get("ampm") or groups.get("ampm2") or "").replace(".", "").lower()
    if ampm:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if ampm in ("오후", "pm") else 0)
    return (hour, minute) if hour < 24 and minute < 60 else None


def _room_name(text: str, source: str) -> str:
    """The room an export is of: its title line, else what the file name says."""
    first = next((line.strip() for line in _head(text) if line.strip()), "")
    for pattern in _ROOM_HEADERS:
        match = pattern.match(first)
        if match:
            return match["room"].strip()
    stem = Path(source).stem
    match = _FILE_ROOM.match(stem)
    return match["room"] if match else stem


def read_export(text: str, source: str, format_name: str) -> ChatExport:
    """Every message of an export in the given format, with warnings by line number."""
    export = ChatExport(format_name, _room_name(text, source))
    if format_name == MAC_CSV:
        _read_csv(text, export)
    else:
        _read_lines(text, next(f for f in _FORMATS if f.name == format_name), export)
    return export


def _read_lines(text: str, fmt: _Format, export: ChatExport) -> None:
    pc = fmt.name == "kakao-pc"
    current_day: date | None = None
    parts: list[list[str]] = []  # each message's lines, joined once at the end
    messages = export.messages
    for number, raw in enumerate(text.splitlines(), 1):
        line = _ODD_SPACES.sub(" ", raw) if _ODD_SPACES.search(raw) else raw
        match = fmt.message.match(line)
        if match:
            groups = match.groupdict()
            if pc:
                sender, body = groups["sender"], groups["text"] or ""
            else:
                said = _SENDER_SPLIT.match(groups["rest"]) if groups["sep"] == "," else None
                if said is None:  # "…님이 들어왔습니다." and other notices
                    continue
                sender, body = said["sender"], said["text"] or ""
            day = current_day if pc else _day(groups)
            clock = _clock(groups)
            if day is None or clock is None:
                reason = "a message before any date line" if day is None and pc else "no such date"
                export.warnings.append((number, f"unreadable timestamp ({reason}); line skipped"))
                continue
            when = datetime(day.year, day.month, day.day, *clock)
            messages.append(ChatMessage(when, sender.strip(), "", number))
            parts.append([body])
            continue
        day_match = fmt.day.match(line)
        if day_match:
            if pc:
                current_day = _day(day_match.groupdict())
                if current_day is None:
                    export.warnings.append((number, "unreadable date line; line skipped"))
            continue
        if number <= 4 and (_SAVED.match(line) or any(p.match(line) for p in _ROOM_HEADERS)):
            continue
        if _is_system(line):
            continue
        if parts:
            parts[-1].append(line)
        elif line.strip():
            export.warnings.append((number, "not a message of a KakaoTalk export; line skipped"))
    for message, lines in zip(messages, parts, strict=True):
        message.text = "\n".join(lines).strip()


def _csv_time(stamp: str) -> datetime | None:
    """2019-02-22 15:12:00 (or without seconds), to the minute like the other formats."""
    match = _CSV_TIME.fullmatch(stamp)
    try:
        return datetime(*map(int, match.groups())) if match else None
    except ValueError:
        return None


def _read_csv(text: str, export: ChatExport) -> None:
    rows = csv.reader(io.StringIO(text, newline=""))
    next(rows, None)  # the Date,User,Message header
    line = rows.line_num + 1
    for row in rows:
        start, line = line, rows.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < 3:
            export.warnings.append((start, "not a Date,User,Message row; skipped"))
            continue
        stamp, sender = row[0].strip(), row[1].strip()
        body = ",".join(row[2:]).replace("\r\n", "\n")
        when = _csv_time(stamp)
        if when is None:
            export.warnings.append((start, f"unreadable date {stamp[:40]!r}; row skipped"))
            continue
        if _is_system(body):
            continue
        export.messages.append(ChatMessage(when, sender, body.strip(), start))
