"""Uploads and export files deleted when the session that made them ends.

A folder is held by the sessions that use it: an upload folder (``components.UPLOAD_DIR / <content hash>``) by
every session that uploaded those bytes, a session's export folder (``components.EXPORT_DIR / <random id>``, held
from the session's first page run on, by ``app.py``) by that session alone.
Streamlit calls the ``on_release`` hook of a session-scoped resource when a session's browser disconnects; the
session may still come back within ``server.disconnectedSessionTTL`` seconds (a network blip), so its folders are
released once that time has passed and the session is not connected again (checked again every TTL while it is).
The last session to release a folder deletes it. The server's whole private folder also goes when it exits.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

_lock = threading.Lock()
_held: dict[str, set[Path]] = {}
"""Session id -> the upload folders it holds."""


@dataclass(frozen=True)
class _Session:
    session_id: str


def hold(session_id: str, folder: Path) -> None:
    """Record that ``session_id`` uses ``folder``."""
    with _lock:
        _held.setdefault(session_id, set()).add(Path(folder))


def release(session_id: str) -> list[Path]:
    """Forget the session's folders; delete those no other session holds. Returns the deleted folders."""
    with _lock:
        folders = _held.pop(session_id, set())
        still_held = set().union(*_held.values())
    gone = sorted(folders - still_held)
    for folder in gone:
        shutil.rmtree(folder, ignore_errors=True)
    return gone


def _release_when_ended(session_id: str) -> None:
    if runtime.exists() and runtime.get_instance().is_active_session(session_id):
        _later(session_id)  # it reconnected: look again after the next grace period
    else:
        release(session_id)


def _later(session_id: str) -> None:
    timer = threading.Timer(
        float(st.get_option("server.disconnectedSessionTTL")) + 1.0, _release_when_ended, [session_id]
    )
    timer.daemon = True
    timer.start()


@st.cache_resource(scope="session", on_release=lambda session: _later(session.session_id), show_spinner=False)
def _this_session() -> _Session:
    """A per-session resource, only for its release hook (called when the session disconnects)."""
    return _Session(get_script_run_ctx().session_id)


def register(folder: Path) -> None:
    """Hold ``folder`` for the current session: it is deleted when the session ends (unless another holds it).
    Called outside an app session (a script, a test), nothing holds it: it goes when the server's folder does."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return
    hold(_this_session().session_id, folder)
