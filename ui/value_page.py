"""Value page: what each customer is worth over a horizon (BG/NBD + Gamma-Gamma), who is about to leave (LightGBM),
the valuable customers at risk as an audience, and how well the models did on the past."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from segmentation.config import Config
from segmentation.errors import SegmentationError
from segmentation.export.safe_csv import csv_text
from segmentation.formatting import compact_money, money, number, percent
from segmentation.privacy.small_groups import small_group_warning
from segmentation.value import plotting
from segmentation.value.reasons import churn_contributions
from segmentation.value.scoring import segment_risk, valuable_at_risk
from ui import components, state
from ui.components import Dataset
from ui.value_widgets import (
    FIRST_FIT,
    ValueSettings,
    backtest_at,
    churn,
    comparison,
    controls,
    cutoff_input,
    segment_names,
)

if TYPE_CHECKING:
    from segmentation.value import ChurnClassifier, ChurnData

AUDIENCE_COLUMNS = ["clv", "churn_probability", "value_at_risk", "p_alive", "expected_orders", "churn_reasons"]
PERCENT = st.column_config.NumberColumn(format="percent")
MONEY = st.column_config.NumberColumn(format="%,.2f")


def render() -> None:
    loaded = state.loaded_or_prompt()
    if loaded is None:
        return
    dataset, config = loaded
    st.caption(
        "What each customer of the loaded file is worth over the coming months and who is about to stop buying: "
        "BG/NBD + Gamma-Gamma for lifetime value, a calibrated LightGBM model for churn."
    )
    try:
        settings = controls(dataset, config)
        estimated = estimate(dataset, config, settings)
        if estimated is None:
            return
        table, model, data = estimated
        currency = components.currency(dataset, config)
        show_value(table, settings, currency)
        show_segments(table)
        show_audience(table, dataset.name)
        show_reasons(table, model, data, currency)
        last = components.snapshot_default(dataset, config) - timedelta(days=1)
        show_backtest(dataset, config, last)
        show_comparison(dataset, config, settings, last)
    except SegmentationError as exc:
        components.show_error(exc)


def estimate(
    dataset: Dataset, config: Config, settings: ValueSettings
) -> tuple[pd.DataFrame, ChurnClassifier, ChurnData] | None:
    """The value table with churn, the churn model and its data; None until the analyst asks (the first fit is
    long) or after a cancel."""
    run_id = f"value_{dataset.digest}"
    workflow = components.analysis(dataset, config)
    inputs = (settings.as_of, settings.horizon_days, settings.discount_rate, settings.churn_days)
    if workflow.done("scored_value", *inputs):  # estimated before, in this session or another: nothing to wait for
        return workflow.scored_value(*inputs), *churn(dataset, config, settings.as_of, settings.churn_days)
    eta = components.expected(dataset, config, "churn", "scored_value")  # scored_value times the CLV fit too
    help_text = f"Usually {eta} on this file once the models are compiled. {FIRST_FIT}" if eta else FIRST_FIT
    if not state.asked(run_id, "Estimate value and churn", ":material/play_arrow:", help_text, "value_estimate"):
        st.caption(help_text)
        return None
    started = time.perf_counter()
    title = f"Estimating value and churn{f' ({eta})' if eta else ''}…"
    with state.cancellable(run_id, "value_cancel"), st.status(title, expanded=True) as status:
        status.write(
            f"Step 1 of 2: the churn model (LightGBM on the {settings.churn_days} days before the as-of date)…"
        )
        model, data = churn(dataset, config, settings.as_of, settings.churn_days)
        status.write(f"Step 2 of 2: BG/NBD and Gamma-Gamma, then each customer's reasons. {FIRST_FIT}")
        table = workflow.scored_value(*inputs)
        status.update(
            label=f"Estimated {len(table):,} customers ({time.perf_counter() - started:.0f} s)",
            state="complete",
            expanded=False,
        )
    return table, model, data


def show_value(table: pd.DataFrame, settings: ValueSettings, currency: str | None) -> None:
    st.subheader(f"Lifetime value over the next {settings.horizon_days} days")
    total, customers, alive, leaving = st.columns(4)
    total.metric("Predicted CLV, all customers", compact_money(table["clv"].sum(), currency))
    customers.metric("Customers", number(len(table)))
    alive.metric("Mean P(alive)", percent(table["p_alive"].mean()))
    leaving.metric(f"Expected to stop ({settings.churn_days} days)", number(table["churn_probability"].sum()))
    histogram, heatmap = st.columns(2)
    figure = plotting.clv_histogram(table, settings.horizon_days, currency)
    histogram.plotly_chart(figure, config={"displaylogo": False})
    heatmap.plotly_chart(plotting.p_alive_heatmap(table), config={"displaylogo": False})
    st.caption(
        f"CLV = expected orders (BG/NBD) x expected value per order (Gamma-Gamma), discounted at "
        f"{settings.discount_rate:.0%} a year. P(alive) is the probability that a customer has not left for good; "
        "a customer with one order only counts as alive until a repeat order shows their rhythm (docs/value.md)."
    )


def show_segments(table: pd.DataFrame) -> None:
    st.subheader("Churn risk per segment")
    current = state.segmentation()
    if current is None:
        components.no_segmentation_yet("shows the churn risk and the value at risk of each segment here")
        return
    risk = segment_risk(table, segment_names(current))
    small = small_group_warning(
        risk["customers"], current.config.privacy.min_group_size, consequence="keep them out of reports you share"
    )
    if small:
        st.warning(components.escape(small), icon=":material/visibility_off:")
    st.plotly_chart(plotting.segment_risk_chart(risk), config={"displaylogo": False})
    st.dataframe(
        risk.rename_axis("Segment"),
        column_config={
            "customers": st.column_config.NumberColumn("Customers", format="%,d"),
            "churn_probability": st.column_config.ProgressColumn("Mean churn risk", format="percent"),
            "expected_churners": st.column_config.NumberColumn("Expected to stop", format="%,.0f"),
            "clv": st.column_config.NumberColumn("Predicted CLV", format="%,.0f"),
            "clv_at_risk": st.column_config.NumberColumn(
                "CLV at risk", format="%,.0f", help="The sum of CLV x churn probability of its customers."
            ),
        },
    )
    st.caption("Segments are those the Segments page shows, with their own as-of date; value is as of the date above.")


def show_audience(table: pd.DataFrame, name: str) -> None:
    st.subheader("Valuable and at risk")
    share, threshold = st.columns(2)
    top = share.slider("Top share by CLV (%)", 1, 100, state.kept("value_top", 20), **state.keeping("value_top"))
    least = threshold.slider(
        "Churn probability at least (%)", 0, 100, state.kept("value_min_churn", 50), **state.keeping("value_min_churn")
    )
    audience = valuable_at_risk(table, 1 - top / 100, least / 100)
    min_clv = float(table["clv"].quantile(1 - top / 100))
    st.plotly_chart(plotting.value_risk_scatter(table, min_clv, least / 100), config={"displaylogo": False})
    st.caption(
        f"**{len(audience):,} customers** in the top {top}% by CLV with at least {least}% churn risk; together "
        f"{audience['value_at_risk'].sum():,.0f} of predicted CLV at risk. Reach them before they go."
    )
    st.dataframe(
        audience[AUDIENCE_COLUMNS].head(200),
        column_config={"clv": MONEY, "value_at_risk": MONEY, "churn_probability": PERCENT, "p_alive": PERCENT},
    )
    st.download_button(
        "Download this audience (CSV)",
        data=csv_text(audience[AUDIENCE_COLUMNS].round(4).reset_index()).encode(),
        file_name=f"{name.split('.')[0]}_valuable_at_risk.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )


def show_reasons(table: pd.DataFrame, model: ChurnClassifier, data: ChurnData, currency: str | None) -> None:
    st.subheader("Why is this customer at risk?")
    scored = table.loc[table.index.intersection(data.features.index)]
    ranked = (scored["clv"] * scored["churn_probability"]).sort_values(ascending=False)
    customer = st.selectbox("Customer (the most CLV at risk first)", ranked.index.tolist(), key="value_customer")
    row = table.loc[customer]
    churn_cell, clv_cell, alive_cell = st.columns(3)
    churn_cell.metric("Churn probability", percent(row["churn_probability"]))
    clv_cell.metric("Predicted CLV", money(row["clv"], currency))
    alive_cell.metric("P(alive)", percent(row["p_alive"]))
    st.text(f"{row['churn_reasons']}.")  # plain text: ids and feature values are shown as they are
    pushes = churn_contributions(model, data.features.loc[[customer]]).iloc[0]
    st.plotly_chart(plotting.churn_push_chart(pushes), config={"displaylogo": False})


def show_backtest(dataset: Dataset, config: Config, last: date) -> None:
    st.subheader("Would the value model have been right?")
    st.caption(
        "Fit on the orders before a cutoff, predict the next months, compare with what each customer then did, and "
        "with a naive baseline that repeats each customer's last period."
    )
    left, right = st.columns(2)
    with left:
        cutoff = cutoff_input("Backtest cutoff", "value_backtest_cutoff", last, 180)
    holdout = right.number_input("Holdout (days)", 30, 730, 180, step=30, key="value_holdout")
    run_id = f"value_backtest_{dataset.digest}"
    if not state.asked(run_id, "Run the backtest", ":material/history:", FIRST_FIT, "value_backtest"):
        return
    try:
        with state.cancellable(run_id, "value_backtest_cancel"):
            result = backtest_at(dataset, config, cutoff, int(holdout))
    except SegmentationError as exc:  # e.g. a cutoff too late for the holdout: the comparison below still shows
        components.show_error(exc)
        return
    from segmentation.value import verdict

    st.plotly_chart(plotting.calibration_chart(result.calibration, holdout), config={"displaylogo": False})
    st.markdown("  \n".join(verdict(result.metrics)))
    st.dataframe(
        result.metrics,
        hide_index=True,
        column_config={
            "target": "Target",
            "model": "Model",
            "mae": st.column_config.NumberColumn("Mean absolute error", format="%,.2f"),
            "spearman": st.column_config.NumberColumn("Spearman", format="%.3f"),
            "predicted_total": st.column_config.NumberColumn("Predicted total", format="%,.0f"),
            "actual_total": st.column_config.NumberColumn("Actual total", format="%,.0f"),
            "aggregate_error": st.column_config.NumberColumn("Error of the total", format="percent"),
        },
    )


def show_comparison(dataset: Dataset, config: Config, settings: ValueSettings, last: date) -> None:
    st.subheader("Which churn model ranks the leavers best?")
    st.caption(
        f"Every model scores the customers at a cutoff from what came before it; churn = no order in the "
        f"{settings.churn_days} days after it. AUROC and PR-AUC: ranking (higher is better); Brier: calibration "
        "(lower is better); lift: churn rate of the top 10% over the overall rate."
    )
    cutoff = cutoff_input("Comparison cutoff", "value_compare_cutoff", last, settings.churn_days)
    run_id = f"value_compare_{dataset.digest}"
    if not state.asked(run_id, "Compare the churn models", ":material/leaderboard:", FIRST_FIT, "value_compare"):
        return
    with state.cancellable(run_id, "value_compare_cancel"):
        table = comparison(dataset, config, cutoff, settings.churn_days)
    st.caption(f"{table['customers'].iat[0]:,} customers, churn rate {table['churn_rate'].iat[0]:.0%}.")
    st.dataframe(table.drop(columns=["customers", "churn_rate"]).round(3), hide_index=True)


if __name__ == "__main__":
    render()
