"""Uploads and export files are deleted when the session that made them ends: a folder goes with the last session
holding it, and in a real server it is gone once a closed tab's session can no longer reconnect."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.browser_helpers import ARTIFACTS, SCATTER, analyst_file, chart, open_page, serve, settled, upload
from ui import uploads


def folder_with_a_file(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "tx.csv").write_text("customer_id\n1\n")
    return folder


def wait_for(condition: Callable[[], Any], seconds: float = 60.0) -> Any:
    """The first true value of ``condition``, polled until ``seconds`` have passed (then its last value)."""
    deadline = time.monotonic() + seconds
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.25)
    return value


def test_a_folder_goes_with_the_last_session_holding_it(tmp_path) -> None:
    shared, own = folder_with_a_file(tmp_path, "shared"), folder_with_a_file(tmp_path, "own")
    uploads.hold("session-a", shared)
    uploads.hold("session-a", own)
    uploads.hold("session-b", shared)
    assert uploads.release("session-a") == [own]
    assert shared.is_dir() and not own.exists()
    assert uploads.release("session-b") == [shared] and not shared.exists()
    assert uploads.release("session-b") == []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One server for the module, whose sessions cannot come back 2 s after their tab closed, and the folder it
    makes its private folder in (its ``TMPDIR``)."""
    temp = tmp_path_factory.mktemp("server-tmp")
    ARTIFACTS.mkdir(exist_ok=True)
    options = ("--server.disconnectedSessionTTL", "2")
    with serve(ARTIFACTS / "streamlit-privacy.log", *options, env={"TMPDIR": str(temp)}) as (url, _):
        yield url, temp


@pytest.mark.browser
@pytest.mark.slow
def test_closing_the_tab_deletes_the_upload(browser: Browser, server: tuple[str, Path], tmp_path: Path) -> None:
    url, temp = server
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(url)
    path = analyst_file(tmp_path, 40, 0)
    upload(tab, path)
    saved = wait_for(lambda: next(temp.glob(f"segmentation-app-*/uploads/*/{path.name}"), None))
    private = saved.parent.parent.parent
    assert saved.read_bytes() == path.read_bytes()

    context.close()  # the tab closes: the session disconnects and cannot come back after the 2 s TTL
    assert wait_for(lambda: not saved.parent.exists()), os.listdir(private / "uploads")
    assert private.is_dir()  # the server still runs: only this session's upload went


@pytest.mark.browser
@pytest.mark.slow
def test_closing_the_tab_deletes_its_exports(browser: Browser, server: tuple[str, Path], tmp_path: Path) -> None:
    url, temp = server
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(url)
    upload(tab, analyst_file(tmp_path, 40, 1))
    open_page(tab, "Segments", chart(tab, SCATTER).locator("g.legend g.traces").first)
    open_page(tab, "Export")
    settled(tab, tab.get_by_text(re.compile(r"40 customers in 1 file: generic_segments\.csv")))
    written = wait_for(lambda: next(temp.glob("segmentation-app-*/exports/*/segments/*/generic_segments.csv"), None))
    session_folder = written.parents[2]
    private = session_folder.parent.parent
    assert written.stat().st_size > 0

    context.close()  # the session cannot come back after the 2 s TTL: its export folder goes
    assert wait_for(lambda: not session_folder.exists()), os.listdir(private / "exports")
    assert private.is_dir()
