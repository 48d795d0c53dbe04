"""What a session remembers across reruns and pages: the loaded file's identity and its settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import streamlit as st

from segmentation.config import ClusteringConfig, Config, FeatureConfig
from ui import components
from ui.components import Dataset

if TYPE_CHECKING:
    from segmentation.clustering import SegmentationModel

_LOADED = "loaded"
_UPLOAD = "upload_dataset"
_KEPT = "kept_widget_values"
T = TypeVar("T")


def loaded() -> tuple[Dataset, Config] | None:
    """The data set and settings of the last successful load, if any."""
    return st.session_state.get(_LOADED)


def loaded_or_prompt() -> tuple[Dataset, Config] | None:
    """:func:`loaded`, or ``None`` after telling the analyst to load data on the Data page first."""
    last = loaded()
    if last is None:
        st.info("No data is loaded yet. Choose the sample or upload a file on the Data page first.")
        st.page_link("ui/data_page.py", label="Go to the Data page", icon=":material/arrow_back:")
    return last


def remember(dataset: Dataset, config: Config) -> None:
    st.session_state[_LOADED] = (dataset, config)


def forget() -> None:
    st.session_state.pop(_LOADED, None)


def config_for(dataset: Dataset) -> Config | None:
    """The settings last used with ``dataset``, so the Data page shows them again after a page switch."""
    last = loaded()
    return last[1] if last and last[0] == dataset else None


def last_upload() -> tuple[str, Dataset] | None:
    """The uploader's file id and data set of the last upload (the uploader forgets it on a page switch)."""
    return st.session_state.get(_UPLOAD)


def remember_upload(file_id: str, dataset: Dataset) -> None:
    st.session_state[_UPLOAD] = (file_id, dataset)


def kept(key: str, default: T) -> T:
    """The value widget ``key`` was last changed to: Streamlit drops widget state on a page switch."""
    return st.session_state.get(_KEPT, {}).get(key, default)


def keep(key: str) -> None:
    """``on_change`` callback that records widget ``key``'s value for :func:`kept`."""
    st.session_state.setdefault(_KEPT, {})[key] = st.session_state[key]


def restore(key: str, value: Any) -> None:
    """From a callback: widget ``key`` shows ``value`` again on the next run (e.g. to undo a cancelled choice)."""
    st.session_state.setdefault(_KEPT, {})[key] = value
    st.session_state[key] = value  # a callback runs before the widget, so this sets what the browser shows too


def keeping(key: str) -> dict[str, Any]:
    """Widget keyword arguments: ``key`` plus the callback that keeps its value across pages."""
    return {"key": key, "on_change": keep, "args": (key,)}


_SEGMENT_NAMES = "segment_names"
_REQUESTED = "requested_runs"
_CANCELLED = "cancelled_runs"


def segment_names(fit_id: str) -> dict[int, str]:
    """The analyst's own names of the segments of one fitted segmentation: segment id -> name."""
    return st.session_state.get(_SEGMENT_NAMES, {}).get(fit_id, {})


def rename_segment(fit_id: str, segment: int, key: str) -> None:
    """``on_change`` callback of a rename box: text input ``key`` names ``segment``; empty restores the default."""
    names = st.session_state.setdefault(_SEGMENT_NAMES, {}).setdefault(fit_id, {})
    name = " ".join(str(st.session_state[key]).split())
    if name:
        names[segment] = name
    else:
        names.pop(segment, None)


def requested(run_id: str) -> bool:
    """Whether the analyst asked for the optional computation ``run_id`` (e.g. a method comparison)."""
    return run_id in st.session_state.get(_REQUESTED, set())


def request(run_id: str) -> None:
    """``on_click`` callback: remember that the analyst asked for ``run_id``; the result itself stays cached."""
    st.session_state.setdefault(_REQUESTED, set()).add(run_id)
    st.session_state.get(_CANCELLED, set()).discard(run_id)


def cancel(run_id: str) -> None:
    """``on_click`` callback of a Cancel button: forget the request for ``run_id`` and note that it was cancelled."""
    st.session_state.get(_REQUESTED, set()).discard(run_id)
    st.session_state.setdefault(_CANCELLED, set()).add(run_id)


def cancelled(run_id: str) -> bool:
    """Whether the analyst cancelled ``run_id`` since last asking for it."""
    return run_id in st.session_state.get(_CANCELLED, set())


def asked(run_id: str, label: str, icon: str, help: str, key: str) -> bool:
    """Whether the analyst asked for the optional computation ``run_id``; if not yet, a button to ask for it (with a
    note when the last request was cancelled)."""
    if requested(run_id):
        return True
    if cancelled(run_id):
        st.warning("Cancelled: nothing was computed. Ask again to start from the beginning.", icon=":material/cancel:")
    st.button(label, key=key, icon=icon, on_click=request, args=(run_id,), help=help)
    return False


@contextmanager
def cancellable(run_id: str, key: str, on_cancel: Callable[[], None] | None = None) -> Iterator[None]:
    """A Cancel button shown while the block computes ``run_id``.

    Pressing it reruns the script: Streamlit stops the running one at its next element call (a progress update),
    so the block ends there, the cached function it was in stores nothing, and :func:`cancel` (then
    ``on_cancel``, if given) runs before the rerun draws the page. Results computed before stay cached.
    """

    def pressed() -> None:
        cancel(run_id)
        if on_cancel is not None:
            on_cancel()

    slot = st.empty()
    slot.button("Cancel", key=key, icon=":material/stop_circle:", on_click=pressed, help="Stop this computation.")
    try:
        yield
    finally:
        slot.empty()


_SEGMENTATION = "segmentation"


@dataclass(frozen=True)
class Segmentation:
    """The settings of the segmentation last shown on the Segments page: enough to fetch its fit from the cache."""

    dataset: Dataset
    config: Config
    features: FeatureConfig
    chosen: tuple[str, ...]
    method: str
    params: tuple[tuple[str, Any], ...]
    fit_id: str

    @property
    def clustering(self) -> ClusteringConfig:
        """The segmenter settings as the workflow takes them."""
        return ClusteringConfig(self.method, dict(self.params), self.chosen)


def segmentation() -> Segmentation | None:
    """The segmentation of the loaded data set last shown on the Segments page, if any."""
    current: Segmentation | None = st.session_state.get(_SEGMENTATION)
    last = loaded()
    if current is None or last is None or (current.dataset, current.config) != last:
        return None
    return current


def remember_segmentation(current: Segmentation) -> None:
    st.session_state[_SEGMENTATION] = current


def current_model(segmentation: Segmentation) -> SegmentationModel:
    """The fitted model of a segmentation the Segments page showed (from the shared cache), with the analyst's
    names; the cache hands out a fresh copy on every run, so renaming it changes nothing shared."""
    s = segmentation
    model = components.fit_segmentation(s.dataset, s.config, s.features, s.chosen, s.method, s.params)
    apply_names(model, s.fit_id)
    return model


def apply_names(model: SegmentationModel, fit_id: str) -> None:
    """Put the analyst's names of the segments of fit ``fit_id`` on ``model``."""
    for segment, name in segment_names(fit_id).items():
        if segment in model.names_:
            model.rename(segment, name)
