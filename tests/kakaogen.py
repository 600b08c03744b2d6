"""KakaoTalk exports written from messages, in each format the chat reader knows (tests, bench)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from indexer.sources.kakao import ChatMessage

KO_WEEKDAYS = "월화수목금토일"
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")
EN_MONTHS += ("September", "October", "November", "December")
SAVED = datetime(2024, 1, 2, 3, 4, 5)


def _ko_clock(when: datetime) -> str:
    """오전 12:05 for five past midnight, 오후 12:30 for half past noon."""
    return f"{'오후' if when.hour >= 12 else '오전'} {(when.hour + 11) % 12 + 1}:{when:%M}"


def _en_clock(when: datetime) -> str:
    return f"{(when.hour + 11) % 12 + 1}:{when:%M} {'PM' if when.hour >= 12 else 'AM'}"


def _ko_day(when: datetime) -> str:
    return f"{when.year}년 {when.month}월 {when.day}일 {KO_WEEKDAYS[when.weekday()]}요일"


def _en_day(when: datetime) -> str:
    return f"{EN_WEEKDAYS[when.weekday()]}, {EN_MONTHS[when.month - 1]} {when.day}, {when.year}"


def _pc(messages, room, korean: bool) -> list[str]:
    if korean:
        lines = [f"{room} 님과 카카오톡 대화", f"저장한 날짜 : {SAVED:%Y-%m-%d %H:%M:%S}", ""]
    else:
        lines = [f"{room} with KakaoTalk Chats", f"Date Saved : {SAVED:%Y-%m-%d %H:%M:%S}", ""]
    day = None
    for message in messages:
        if message.time.date() != day:
            day = message.time.date()
            label = _ko_day(message.time) if korean else _en_day(message.time)
            lines += ["", f"--------------- {label} ---------------"]
        clock = _ko_clock(message.time) if korean else _en_clock(message.time)
        lines.append(f"[{message.sender}] [{clock}] {message.text}")
    return lines


def _mobile(messages, room, stamp, day_line, header) -> list[str]:
    lines = [header.format(room=room), "", ""]
    day = None
    for message in messages:
        if message.time.date() != day:
            day = message.time.date()
            lines += ["", day_line(message.time)]
        lines.append(f"{stamp(message.time)}, {message.sender} : {message.text}")
    return lines


def _en_stamp(when: datetime, short: bool = False, hours24: bool = False) -> str:
    month = EN_MONTHS[when.month - 1]
    clock = f"{when:%H:%M}" if hours24 else _en_clock(when)
    return f"{month[:3] if short else month} {when.day}, {when.year}, {clock}"


def _time_first(when: datetime) -> str:
    """Older Android: 3:12pm, February 22, 2019 (also its day lines)."""
    clock = _en_clock(when).replace(" ", "").lower()
    return f"{clock}, {EN_MONTHS[when.month - 1]} {when.day}, {when.year}"


_KO_HEADER = "{room} 님과 카카오톡 대화\n저장한 날짜 : 2024년 1월 2일 오전 3:04"
_EN_HEADER = "KakaoTalk Chats with {room}\nDate Saved : Jan 2, 2024, 3:04 AM"
FORMATS = {
    "pc-ko": lambda m, room: _pc(m, room, korean=True),
    "pc-en": lambda m, room: _pc(m, room, korean=False),
    "android-ko": lambda m, room: _mobile(
        m,
        room,
        lambda w: f"{w.year}년 {w.month}월 {w.day}일 {_ko_clock(w)}",
        _ko_day,
        _KO_HEADER,
    ),
    "ios-ko": lambda m, room: _mobile(
        m, room, lambda w: f"{w.year}. {w.month}. {w.day}. {_ko_clock(w)}", _ko_day, _KO_HEADER
    ),
    "mobile-en": lambda m, room: _mobile(m, room, _en_stamp, _en_day, _EN_HEADER),
    "mobile-en-24h": lambda m, room: _mobile(
        m, room, lambda w: _en_stamp(w, hours24=True), _en_day, _EN_HEADER
    ),
    "ios-en": lambda m, room: _mobile(
        m, room, lambda w: _en_stamp(w, short=True), _en_day, _EN_HEADER
    ),
    "android-en-old": lambda m, room: _mobile(m, room, _time_first, _time_first, _EN_HEADER),
}
READER_FORMAT = {
    "pc-ko": "kakao-pc",
    "pc-en": "kakao-pc",
    "android-ko": "kakao-android",
    "ios-ko": "kakao-ios",
    "mobile-en": "kakao-mobile-en",
    "mobile-en-24h": "kakao-mobile-en",
    "ios-en": "kakao-mobile-en",
    "android-en-old": "kakao-mobile-en-time-first",
    "mac-csv": "kakao-mac-csv",
}


def render(messages: list[ChatMessage], fmt: str, room: str = "케라스 코리아") -> str:
    """An export of the messages as the KakaoTalk app writes it in one format."""
    if fmt == "mac-csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        buffer.write("Date,User,Message\n")
        for message in messages:
            writer.writerow([f"{message.time:%Y-%m-%d %H:%M:%S}", message.sender, message.text])
        return buffer.getvalue()
    return "\n".join(FORMATS[fmt]([*messages], room)) + "\n"
