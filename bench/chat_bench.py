"""Chat export reading at scale: a generated 200,000-message export per format, parse time
and peak memory of a process that only parses it (target: 10 s and 500 MB).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/chat_bench.py [--messages 200000] [--format pc-ko]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from kakaogen import READER_FORMAT, render  # noqa: E402  (after the path setup above)

from indexer.sources.kakao import ChatMessage  # noqa: E402

TARGET_SECONDS, TARGET_MB = 10.0, 500.0
WORDS = [
    "케라스",
    "논문",
    "모델",
    "학습",
    "데이터",
    "코드",
    "좋아요",
    "감사합니다",
    "질문",
    "있어요",
    "혹시",
    "이거",
    "보세요",
]
WORDS += [
    "the",
    "paper",
    "model",
    "training",
    "data",
    "works",
    "well",
    "thanks",
    "question",
    "GAN",
    "LSTM",
    "BERT",
]
PLACEHOLDERS = ["사진", "이모티콘", "동영상", "파일: slides.pdf", "삭제된 메시지입니다."]

# Run in a fresh interpreter, so the figures are those of parsing alone.
_CHILD = """
import json, resource, sys, time
from pathlib import Path
start = time.perf_counter()
from indexer.sources.files import parse_sources
result = parse_sources([Path(sys.argv[1])])
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
(stats,) = result.files
print(json.dumps({
    "seconds": round(seconds, 2),
    "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
    "peak_mb": round(usage.ru_maxrss / 1024, 1),
    "reader": stats.reader, "messages": stats.messages, "members": stats.members,
    "resources": len(result.resources),
    "mentions": sum(len(r.mentions) for r in result.resources),
    "warnings": len(result.warnings),
}))
"""


def conversation(count: int, seed: int = 13) -> list[ChatMessage]:
    """A busy open chat: 300 members, a link in one message of ten, some of them posted
    again, replies seconds to minutes apart, multi-line messages and attachments."""
    rng = random.Random(seed)
    members = [f"회원{n:03d}" for n in range(300)]
    urls = [f"https://example.com/papers/{n}?utm_source=kakao" for n in range(count // 15)]
    when = datetime(2019, 1, 1, 9, 0)
    messages = []
    for _ in range(count):
        when += timedelta(minutes=rng.choice((0, 0, 0, 1, 1, 2, 5, 30)))
        roll = rng.random()
        if roll < 0.05:
            text = rng.choice(PLACEHOLDERS)
        else:
            text = " ".join(rng.choices(WORDS, k=rng.randint(2, 14)))
            if roll < 0.15:
                text += " " + rng.choice(urls)
            if rng.random() < 0.05:
                text += "\n" + " ".join(rng.choices(WORDS, k=6))
        messages.append(ChatMessage(when, rng.choice(members), text, 0))
    return messages


def measure(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--format", action="append", choices=sorted(READER_FORMAT))
    args = parser.parse_args()
    messages = conversation(args.messages)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for fmt in args.format or list(READER_FORMAT):
            path = Path(folder) / ("chat.csv" if fmt == "mac-csv" else "chat.txt")
            path.write_text(render(messages, fmt), encoding="utf-8")
            row = {"format": fmt, "mb_on_disk": round(path.stat().st_size / 1e6, 1)}
            row.update(measure(path))
            row["ok"] = row["seconds"] <= TARGET_SECONDS and row["peak_mb"] <= TARGET_MB
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    print("\n| format | file MB | messages | resources | seconds | CPU seconds | peak MB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row['format']} | {row['mb_on_disk']} | {row['messages']:,} | "
            f"{row['resources']:,} | {row['seconds']} | {row['cpu_seconds']} | {row['peak_mb']} |"
        )
    print(f"\ntarget: <= {TARGET_SECONDS} s and <= {TARGET_MB} MB peak for each format")
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
