"""Take the README screenshots from the real app: docs/screenshots/search.png (a Korean
search with results) and docs/screenshots/resource.png (a resource page).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/screenshots.py [--out docs/screenshots]

Builds an offline index of data/keras-open-chat.md in a temporary folder, serves the app
with `streamlit run` and drives headless Chromium, with the same helpers as the browser test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from apprun import (  # noqa: E402  (tests/ is not a package)
    SAMPLE,
    build_index,
    card_titles,
    chrome,
    search,
    serve_app,
    wait_for,
    wait_idle,
)

QUERY = "LSTM으로 시계열 예측"
RESOURCE = "https://www.altumintelligence.com/articles/a/Time-Series-Prediction-Using-LSTM-Deep-Neural-Networks"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="recall-shots-") as tmp:
        work = Path(tmp)
        index = build_index([SAMPLE], work / "index", work / "cache")
        with (
            serve_app(index, work / "streamlit.log") as url,
            chrome(work / "profile", width=1400, height=1150) as driver,
        ):
            driver.get(url)
            search(driver, QUERY)
            wait_for(driver, card_titles, 180, "no results")
            wait_idle(driver)
            driver.save_screenshot(str(args.out / "search.png"))

            driver.get(f"{url}/?{urlencode({'id': RESOURCE})}")
            wait_for(driver, lambda d: d.find_elements("css selector", ".rc-page-title"), 120)
            wait_idle(driver)
            driver.save_screenshot(str(args.out / "resource.png"))
    print(f"wrote {args.out / 'search.png'} and {args.out / 'resource.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
