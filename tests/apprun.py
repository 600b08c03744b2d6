"""Running the real servers end to end: build an index, serve it with `streamlit run` (and
drive Debian's headless Chromium with Selenium) or with `recall serve`. Used by
test_browser.py, test_api.py and the benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from indexer.build import Builder
from indexer.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "search_ui" / "app.py"
SERVER = ROOT / "search_ui" / "server.py"  # what `recall ui` runs: APP, warmed up at start
SAMPLE = ROOT / "data" / "keras-open-chat.md"
HOSTILE = ROOT / "tests" / "fixtures" / "hostile.md"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
SERVER_START_SECONDS = 90


def build_index(sources: list[Path], index: Path, cache: Path, embedder=None) -> Path:
    """An offline index (notes and titles only, no page text) of the given lists."""
    settings = load_settings(index_dir=index, cache_dir=cache)
    Builder(settings, embedder=embedder).build(sources, offline=True)
    return index


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(health: str, process: subprocess.Popen, log: Path) -> None:
    """Until `health` answers 200 (a server answers once it has loaded the model and the
    index: connections wait in the listen queue until then)."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(health, timeout=SERVER_START_SECONDS) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(
        f"{health} did not answer within {SERVER_START_SECONDS}s:\n{log.read_text()}"
    )


@contextlib.contextmanager
def _serving(command: list[str], env: dict, health: str, log: Path) -> Iterator[None]:
    """Run `command` in its own process group until `health` answers; the group is always
    terminated (then killed) on exit, whatever happened inside the block."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_healthy(health, process, log)
            yield
        finally:
            _stop(process)


@contextlib.contextmanager
def serve_app(index: Path, log: Path, script: Path = SERVER) -> Iterator[str]:
    """`streamlit run search_ui/server.py` (or another script) on a free loopback port, once
    it has loaded the model and the index; yields its base URL."""
    port = free_port()
    env = dict(
        os.environ,
        RECALL_INDEX=str(index),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",
    ]
    url = f"http://127.0.0.1:{port}"
    with _serving(command, env, f"{url}/_stcore/health", log):
        yield url


@contextlib.contextmanager
def serve_api(index: Path, log: Path) -> Iterator[str]:
    """`recall serve` on a free loopback port, once it has loaded the model and the index;
    yields its base URL."""
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    command = [sys.executable, "-m", "indexer", "serve", "--index", str(index)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with _serving(command, env, f"{url}/healthz", log):
        yield url


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


# Records alert/confirm/prompt calls instead of showing them, before any page script runs.
_ALERT_TRAP = """
window.__recall_alerts = [];
for (const name of ['alert', 'confirm', 'prompt']) {
  window[name] = (message) => { window.__recall_alerts.push(name + ':' + String(message)); };
}
"""


@contextlib.contextmanager
def chrome(profile: Path, width: int = 1400, height: int = 1000) -> Iterator[webdriver.Chrome]:
    """Headless Debian Chromium with a fresh profile; alert() calls are trapped and recorded
    in `window.__recall_alerts`."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument("--lang=ko-KR")
    # Chromium keeps caches and settings (dconf) under XDG folders: keep them in the profile.
    env = dict(
        os.environ,
        XDG_CACHE_HOME=str(profile / "xdg-cache"),
        XDG_CONFIG_HOME=str(profile / "xdg-config"),
    )
    service = Service(executable_path=str(CHROMEDRIVER), env=env)
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _ALERT_TRAP})
        yield driver
    finally:
        driver.quit()


def wait_for(
    driver: webdriver.Chrome, condition, timeout: float = 90, message: str = "", poll: float = 0.25
):
    """WebDriverWait with a generous default, checking every `poll` seconds; an element
    replaced while the condition read it (the app redrawing) means "not yet", not a failure."""
    wait = WebDriverWait(
        driver, timeout, poll_frequency=poll, ignored_exceptions=(StaleElementReferenceException,)
    )
    return wait.until(condition, message)


def wait_idle(driver: webdriver.Chrome, timeout: float = 90) -> None:
    """Wait until the app has finished its current run (no "running" indicator)."""
    running = '[data-testid="stStatusWidget"], [data-testid="stSkeleton"]'
    wait_for(
        driver,
        lambda d: not d.find_elements("css selector", running),
        timeout,
        "the app kept running",
    )
    time.sleep(0.5)  # let the last elements settle before reading or capturing the page


# The question box, not a form's field in the sidebar.
QUESTION_BOX = '[data-testid="stMain"] [data-testid="stTextInput"] input'


def search(driver: webdriver.Chrome, query: str) -> None:
    """Type a question into the search box and press Enter."""
    box = wait_for(
        driver, lambda d: d.find_element("css selector", QUESTION_BOX), message="no search box"
    )
    ask(box, query)


def ask(box, query: str) -> None:
    """Replace what the question box holds with `query` and press Enter. The keys select and
    delete the old text: WebElement.clear() empties the field, but the app's input still
    holds its old value, and what is typed next is appended to it."""
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(query + "\n")


def card_titles(driver: webdriver.Chrome) -> list[str]:
    return [e.text for e in driver.find_elements("css selector", ".rc-card .rc-title")]
