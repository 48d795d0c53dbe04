"""The fairness section of the Explain page: how the segments, and the surrogate that explains them, treat the
groups of a sensitive attribute (docs/privacy.md). Widgets, one library call, the library's chart."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import streamlit as st

from segmentation.config import FeatureConfig
from segmentation.errors import SegmentationError
from segmentation.privacy.audit import fairness_audit
from segmentation.privacy.fairness import FOUR_FIFTHS, FairnessReport
from segmentation.privacy.plotting import fairness_chart, sections
from segmentation.privacy.small_groups import K_ANONYMITY, small_group_warning
from ui import components, state

ATTRIBUTES = ("country", "channel")
"""The attributes a transactions file can map; a customer table (age band, gender...) is for `segment fairness`."""


def render(current: state.Segmentation) -> None:
    """The section for the current segmentation (the Explain page calls it last)."""
    st.header("Fairness", anchor="fairness")
    try:
        transactions = components.load(current.dataset, current.config).transactions
        table = components.customer_table(current.dataset, current.config, current.features)
        fit = components.fit_segmentation(
            current.dataset, current.config, current.features, current.chosen, current.method, current.params
        )
    except SegmentationError as exc:
        components.show_error(exc)
        return
    segments = pd.Series(fit.labels_, index=table.index)
    show(transactions, segments, current.fit_id, current.features, current.config.privacy.min_group_size)


def show(
    transactions: pa.Table | pd.DataFrame,
    segments: pd.Series,
    key: str,
    features: FeatureConfig | None = None,
    k: int = K_ANONYMITY,
) -> None:
    """Choose the attribute and the threshold; show the warnings, the chart and the rates by group. ``features``
    are the settings the segments were made with; ``key`` names the segmentation for the cache; groups of fewer
    than ``k`` customers are named in a warning (the report leaves their counts blank)."""
    frame = transactions if isinstance(transactions, pa.Table) else pa.Table.from_pandas(transactions)
    options = [a for a in ATTRIBUTES if a in frame.column_names and len(frame[a].drop_null().unique()) > 1]
    if not options:
        st.info("This file maps no country or channel column, so there are no groups to compare.")
        return
    left, middle, right = st.columns(3)
    attribute = left.selectbox("Compare the groups of", options, key="fairness_attribute")
    threshold = middle.slider(
        "Warn below this ratio of rates",
        0.5,
        1.0,
        FOUR_FIFTHS,
        0.05,
        key="fairness_threshold",
        help="The four-fifths rule: a group selected at less than 80% of the rate of another is a warning.",
    )
    surrogate = right.toggle(
        "Also the surrogate's rates",
        key="fairness_surrogate",
        help="Cross-validates the LightGBM surrogate (without the sensitive attributes): a few seconds.",
    )
    try:
        report = _report(key, attribute, threshold, surrogate, k, transactions, segments, features)
    except SegmentationError as exc:
        components.show_error(exc)
        return
    st.caption(
        f"Segment composition{' and the surrogate' if surrogate else ''} by {attribute}. "
        "Sensitive attributes are never used to segment or explain. Groups below 30 customers are not compared; "
        "a gap is reported only when it is beyond chance."
    )
    for warning in report.warnings:
        st.warning(warning, icon=":material/balance:")
    if not report.warnings:
        st.success(f"No gap between the {attribute} groups passes the thresholds.", icon=":material/balance:")
    if report.notes:
        with st.expander(f"{len(report.notes)} smaller gap(s) that the group sizes cannot tell from chance"):
            st.markdown("\n".join(f"- {components.escape(note)}" for note in report.notes))
    parts = sections(report)
    if parts:
        part = st.segmented_control("Show", parts, default=parts[0], key="fairness_part", required=True)
        st.plotly_chart(fairness_chart(report, part), key="fairness_chart")
    small = small_group_warning(
        report.groups["customers"],
        k,
        what=f"{attribute} group",
        consequence="the table leaves the counts blank and no rate is compared",
    )
    if small:
        st.caption(components.escape(small))
    st.dataframe(report.groups, column_config={"customers": st.column_config.NumberColumn("Customers", format="%d")})


@st.cache_data(show_spinner="Comparing groups…", max_entries=8)
def _report(
    key: str,
    attribute: str,
    threshold: float,
    surrogate: bool,
    k: int,
    _transactions: pa.Table | pd.DataFrame,
    _segments: pd.Series,
    _features: FeatureConfig | None,
) -> FairnessReport:
    """The report, cached per segmentation (``key``) and settings; the data itself is not hashed."""
    return fairness_audit(
        _transactions,
        attribute,
        segments=_segments,
        surrogate="lightgbm" if surrogate else None,
        threshold=threshold,
        features=_features,
        k=k,
    )
