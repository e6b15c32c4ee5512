"""One headless Chromium for the session (Debian's `chromium`, driven by Playwright; never a downloaded browser),
a fresh browser context per test, and every console message and page error collected so a test can fail on them.
Screenshots go to test-output/console/ (ignored by git)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from reko.config import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY
from tests.conftest import REPO_ROOT, RunningServer

CHROMIUM = Path(os.environ.get("REKO_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPO_ROOT / "test-output" / "console"
# Long enough for the slowest operation on a busy 2-core machine (DetectLabels with IMAGE_PROPERTIES ~1 s idle).
STEP_TIMEOUT_MS = 30_000


@dataclass
class ConsolePage:
    """A page of the console and what its browser console said."""

    page: Any  # playwright.sync_api.Page (imported lazily: an absent playwright skips, never errors)
    url: str
    errors: list[str] = field(default_factory=list)
    refused_on_purpose: set[str] = field(default_factory=set)  # API paths a test expects to answer 4xx/5xx

    def unexpected_errors(self) -> list[str]:
        """Errors but the browser's own "Failed to load resource" line for a call the test made fail on purpose."""
        return [
            text for text in self.errors
            if not (text.startswith("Failed to load resource") and text.split(" @ ")[-1] in self.refused_on_purpose)
        ]

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def sign_in(self, key_id: str = DEV_ACCESS_KEY_ID, secret: str = DEV_SECRET_ACCESS_KEY) -> None:
        page = self.page
        page.fill("#access-key-id", key_id)
        page.fill("#secret-access-key", secret)
        page.click("#sign-in")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM}: `make browser` installs it (apt-get)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (the dev extra)")
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: Chromium's sandbox refuses to start as root, which is how these tests run here and in CI.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def console_page(browser: Any, server: RunningServer) -> Iterator[ConsolePage]:
    """The console, opened signed out in a fresh context; fails the test on any unexpected browser console error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    opened = ConsolePage(page=page, url=f"{server.url}/console/")

    def on_console(message: Any) -> None:
        if message.type == "error":
            opened.errors.append(f"{message.text} @ {urlsplit(message.location.get('url', '')).path}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: opened.errors.append(f"page error: {error}"))
    page.goto(opened.url)
    page.wait_for_selector("#sign-in-view:not([hidden]), #app-view:not([hidden])")
    yield opened
    context.close()
    assert opened.unexpected_errors() == []
