"""Open a page in headless Chromium and collect what its console said."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import attrs
import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
)
CONSOLE = re.compile(r":CONSOLE[^\]]*\] (.*)")


@attrs.frozen
class Opened:
    dom: str
    console: tuple[str, ...]  #: every console message (errors, CSP violations, logs)


def chromium() -> str:
    """The Chromium executable, or skip the test saying how to get it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    return found


def open_page(page: Path, work: Path, *, screenshot: Path | None = None) -> Opened:
    """Load ``page`` (a local file) in headless Chromium: the DOM after loading and the
    console messages. With ``screenshot``, also write a PNG of the page."""
    browser = chromium()
    profile = work / "chromium-profile"
    profile.mkdir(exist_ok=True)
    url = page.resolve().as_uri()
    base = [browser, *FLAGS, f"--user-data-dir={profile}"]
    done = subprocess.run(
        [*base, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = tuple(m.group(1) for m in CONSOLE.finditer(done.stderr))
    if screenshot is not None:
        shot = subprocess.run(
            [*base, "--window-size=1200,1600", f"--screenshot={screenshot}", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert shot.returncode == 0, shot.stderr[-2000:]
    return Opened(dom=done.stdout, console=console)
