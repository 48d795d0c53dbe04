"""The fairness report as a chart: each group's rate side by side, per segment, item or classifier metric."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from segmentation.errors import InputError
from segmentation.privacy.fairness import FairnessReport

TITLES = {
    "composition": "Share of each group in each segment",
    "exposure": "Share of each group receiving each recommended item",
}


def _table(report: FairnessReport, section: str) -> pd.DataFrame:
    """Rows = groups, columns = the things compared (segments, items, or a classifier's metrics)."""
    if section in ("composition", "exposure"):
        table = getattr(report, section)
    else:
        table = report.classifiers.get(section)
        if table is not None:
            table = table.drop(columns="customers")
            if isinstance(table.index, pd.MultiIndex):  # a classifier of segments: its selection rate per segment
                table = table["selection_rate"].unstack("segment")
    if table is None:
        raise InputError(f"the fairness report has no {section!r} part", fix=f"choose one of {sections(report)}")
    return table


def sections(report: FairnessReport) -> list[str]:
    """The parts of the report that have a chart."""
    return [s for s in ("composition", "exposure") if getattr(report, s) is not None] + list(report.classifiers)


def fairness_chart(report: FairnessReport, section: str | None = None) -> go.Figure:
    """Grouped bars: for each segment, item or metric of ``section`` (default: the first part), one bar per group;
    the ones behind a warning are outlined."""
    section = section or next(iter(sections(report)), "composition")
    table = _table(report, section)
    flagged = _flagged(report, section, table)
    figure = go.Figure()
    for group, rates in table.iterrows():
        figure.add_bar(
            name=str(group),
            x=[str(c) for c in table.columns],
            y=rates.to_numpy(dtype=float),
            hovertemplate=f"{report.attribute} = {group}<br>%{{x}}: %{{y:.1%}}<extra></extra>",
            marker_line_width=[2 if c in flagged else 0 for c in table.columns],
            marker_line_color="#dc2626",
        )
    figure.update_layout(
        barmode="group",
        title=TITLES.get(section, f"{section}: rates by group"),
        yaxis_tickformat=".0%",
        legend_title_text=report.attribute,
    )
    return figure


def _flagged(report: FairnessReport, section: str, table: pd.DataFrame) -> set:
    """The columns of ``table`` behind a warning."""
    gaps = report.gaps[report.gaps["flag"].astype(bool)] if len(report.gaps) else report.gaps
    if section in ("composition", "exposure"):
        items = set(gaps.loc[gaps["section"] == section, "item"])
        return {c for c in table.columns if str(c) in items}
    pairs = set(zip(gaps["item"], gaps["metric"], strict=True))
    return {c for c in table.columns if (section, c) in pairs or (f"{section}, segment {c}", "selection_rate") in pairs}
