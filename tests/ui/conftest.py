"""Browser fixtures: Debian's Chromium (installed by ``setup_browser.sh``) driven by Playwright's
sync API against a live controller (``tests/conftest.py`` ``controller``: a fresh data dir with
the demo content).

Screenshots land in ``.cache/screenshots/`` (artifacts, never compared).
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / ".cache" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        proc = subprocess.run(["bash", str(Path(__file__).with_name("setup_browser.sh"))],
                              capture_output=True, text=True, timeout=900)
        if proc.returncode != 0 or not os.access(CHROMIUM, os.X_OK):
            pytest.skip(f"Chromium could not be installed (apt-get offline?): {proc.stderr.strip()[-500:]}")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path):
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="playwright is not installed (it belongs in pyproject.toml's test extras: \"playwright>=1.40\")")
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def new_page(browser, controller):
    """``new_page(username, password, width, height)``: a fresh browser context, logged in
    through the UI's login form (which posts to ``/api/login/``); console errors are collected
    on ``page.console_errors``."""
    contexts = []

    def make(username: str | None = None, password: str | None = None, width: int = 1280, height: int = 900,
             login: bool = True):
        context = browser.new_context(base_url=controller.url, viewport={"width": width, "height": height})
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        # script errors only: HTTP statuses (a refused login's 401) are the tests' own business
        page.on("console", lambda msg: msg.type == "error" and not msg.text.startswith("Failed to load resource")
                and page.console_errors.append(msg.text))
        page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
        if login:
            log_in(page, username or controller.admin_username, password or controller.admin_password)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def api(controller):
    """An admin (Basic auth) API client for the module's controller."""
    client = controller.client()
    yield client
    client.close()


def log_in(page, username: str, password: str) -> None:
    page.goto("/ui/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(at_path("/ui/"))


def at_path(path: str):
    """A wait_for_url predicate on the path alone (``/ui/login?next=/ui/`` is not ``/ui/``)."""
    return lambda url: urlparse(url).path == path


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
