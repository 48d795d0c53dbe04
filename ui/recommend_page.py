"""Recommend page: which products to offer each segment and each customer, and how well each model predicts."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from recommenders.base import Recommender
from recommenders.lists import lists_at_a_glance, named_segment_lists
from recommenders.names import MODEL_LABELS, QUICK_MODELS, default_model
from recommenders.segments import customer_top_products
from segmentation.clustering.names import METHOD_LABELS
from segmentation.clustering.present import display_names, ordered_segments
from segmentation.config import Config
from segmentation.errors import SegmentationError
from segmentation.formatting import number, percent, plural
from segmentation.timing import timings
from ui import components, state
from ui.components import Dataset
from ui.recommend_widgets import (
    NEW_ONLY_DEFAULT,
    SHOWN_METRICS,
    ListSettings,
    cell,
    controls,
    fitted,
    interactions,
    segment_ids,
    segment_lists,
    segment_picker,
    timed_progress,
    usually,
)
from ui.value_widgets import churn, churn_settings

HOLDOUT_DAYS = 90
QUICK_EVALUATION = "quick_evaluation"  # its timing name (segmentation.timing): estimates from this machine's runs
PICKER_OPTIONS = 20_000
TRAINED = "recommend_trained"  # session key of the last model trained to the end: a cancelled training goes back to it
PRODUCT_COLUMNS = {
    "rank": st.column_config.NumberColumn("Rank", width="small"),
    "product_id": "Product",
    "description": "Description",
}


def render() -> None:
    current = state.segmentation()
    if current is None:
        components.no_segmentation_yet("recommends products for each segment and each customer in it")
        return
    if not components.load(current.dataset, current.config).has_products:
        st.info("This file has no product column: recommendations need products (map one on the Data page).")
        return
    try:
        model = state.current_model(current)
        interactions(current.dataset, current.config)
    except SegmentationError as exc:  # e.g. no purchase lines at all (only returns)
        components.show_error(exc)
        return
    order = ordered_segments(model)
    names = display_names(model, order)
    st.caption(
        f"What to offer each segment and each customer: a recommender learns from the purchases in "
        f"**{components.escape(current.dataset.name)}**; the segments are those of the Segments page "
        f"({METHOD_LABELS[current.method]}, {len(order)} segments)."
    )
    name, settings = controls(current.dataset, current.config)
    recommender = trained(current, name)
    labels = segment_ids(current)
    lists = segment_lists(current, name, settings.exclude_bought)
    by_segment, by_customer, churn, evaluation = st.tabs(
        ["By segment", "By customer", "Churn risk", "How good is each model?"]
    )
    with by_segment:
        show_segment(lists, labels, order, names, settings, name)
    with by_customer:
        show_customer(recommender, lists, labels, order, names, settings)
    with churn:
        show_churn(current.dataset, current.config, labels, order, names)
    with evaluation:
        show_evaluation(current.dataset, current.config, settings.exclude_bought)


# --- cached computations ---------------------------------------------------------------------------------------------


def trained(current: state.Segmentation, name: str) -> Recommender:
    """``fitted`` with a Cancel button while it trains; cancelling goes back to the model trained before."""
    previous = st.session_state.get(TRAINED) or default_model(bool(state.kept("recommend_exclude", NEW_ONLY_DEFAULT)))

    def undo() -> None:
        state.restore("recommend_model", previous)
        st.toast(f"Training {MODEL_LABELS[name]} cancelled; back to {MODEL_LABELS[previous]}.")

    with state.cancellable(f"train_{name}_{current.dataset.digest}", "cancel_training", on_cancel=undo):
        recommender = fitted(current.dataset, current.config, name)
    st.session_state[TRAINED] = name
    return recommender


def churn_risk(dataset: Dataset, config: Config, as_of: date, days: int) -> pd.Series:
    """customer_id -> probability of no order in the ``days`` from ``as_of``: the Value page's churn model (the
    workflow's calibrated LightGBM, trained once for both pages)."""
    model, data = churn(dataset, config, as_of, days)
    return pd.Series(model.predict_proba(data.features)[:, 1], index=data.features.index, name="churn_risk")


@st.cache_data(show_spinner=False, max_entries=8)
def evaluation(dataset: Dataset, config: Config, cutoff: date) -> pd.DataFrame:
    """The quick models fitted before ``cutoff`` and scored on the purchases from it on (one seed), with a progress
    bar."""
    from recommenders.evaluate import evaluate_models, quick_models

    transactions = components.load(dataset, config).transactions
    expected = timings().estimate(QUICK_EVALUATION, len(transactions))
    slot = st.empty()
    try:
        bar = slot.progress(0.0, text="Evaluating…")
        progress = timed_progress(bar, "Evaluating", expected)
        with timings().timed(QUICK_EVALUATION, len(transactions)):
            return evaluate_models(transactions, cutoff.isoformat(), quick_models(), seeds=(0,), progress=progress)
    finally:
        slot.empty()


# --- by segment ------------------------------------------------------------------------------------------------------


def show_segment(
    lists: pd.DataFrame,
    labels: pd.Series,
    order: list[int],
    names: dict[int, str],
    settings: ListSettings,
    name: str,
) -> None:
    st.subheader("Top products per segment")
    # cross-sell lists: the prospects a campaign can still reach; lists with repeats: who buys it already
    owned, heading, meaning = (
        ("novelty", "Never bought by", "*never bought by* is the share who have not bought it yet: the prospects")
        if settings.exclude_bought
        else ("bought_by", "Already bought by", "*already bought by* is the share who bought it before")
    )
    st.caption(
        "A segment's list gathers its customers' own recommendations: *recommended to* is the share of the "
        "segment's customers whose list holds the product; *lift* compares it with all customers (2× = twice as "
        f"often as for everyone; 1× = no different); {meaning}."
    )
    n = settings.n
    glance = lists_at_a_glance(lists, 3)
    sizes = labels.value_counts()
    st.dataframe(
        pd.DataFrame(
            {
                "Segment": [names[s] for s in order],
                "Customers": [int(sizes.get(s, 0)) for s in order],
                "Top 3 products": [glance.get(s, "") for s in order],
            }
        ),
        hide_index=True,
        column_config={"Customers": st.column_config.NumberColumn(format="localized")},
    )
    segment = segment_picker(st, "Segment", order, names, "recommend_segment")
    rows = lists.loc[(lists["segment"] == segment) & (lists["rank"] <= n)]
    if rows.empty:
        st.info(f"{names[segment]} has no customers with a recommendation.")
        return
    shares = {column: rows[column] * 100 for column in ("recommended_to", owned)}  # one-decimal percent
    st.dataframe(
        rows[["rank", "product_id", "description", "recommended_to", "lift", owned, "reason"]].assign(**shares),
        hide_index=True,
        column_config=PRODUCT_COLUMNS
        | {
            "recommended_to": st.column_config.ProgressColumn(
                "Recommended to", format="%.1f%%", min_value=0.0, max_value=100.0
            ),
            "lift": st.column_config.NumberColumn("Lift", format="%.1f×"),
            owned: st.column_config.ProgressColumn(heading, format="%.1f%%", min_value=0.0, max_value=100.0),
            "reason": "Most common reason",
        },
    )
    components.download(
        st,
        "All segment lists (CSV)",
        lambda: named_segment_lists(lists, names, n).to_csv(index=False),
        f"segment_recommendations_{name}.csv",
        "Every segment's top products with share, lift, already-bought and never-bought shares and reason.",
    )


# --- by customer -----------------------------------------------------------------------------------------------------


def show_customer(
    recommender: Recommender,
    lists: pd.DataFrame,
    labels: pd.Series,
    order: list[int],
    names: dict[int, str],
    settings: ListSettings,
) -> None:
    st.subheader("Top products for one customer")
    left, right = st.columns([1, 2])
    segment = segment_picker(left, "Customers of segment", order, names, "recommend_customer_segment")
    members = labels.index[labels.to_numpy() == segment]
    if len(members) > PICKER_OPTIONS:
        st.caption(f"The picker lists the first {PICKER_OPTIONS:,} of {len(members):,} customers of this segment.")
    customer = right.selectbox("Customer", list(members[:PICKER_OPTIONS]), key="recommend_customer")
    if customer is None:
        return
    recs = customer_top_products(
        recommender,
        [customer],
        labels,
        n=settings.n,
        min_orders=settings.min_orders,
        exclude_bought=settings.exclude_bought,
        segment_lists=lists,
    )
    data = recommender.interactions
    row = data.rows([customer])[0]
    orders = int(data.n_orders[row]) if row >= 0 else 0
    left, middle, right = st.columns([2, 1, 1])  # segment names are long
    left.metric("Segment", names[segment])
    middle.metric("Orders", f"{orders:,}")
    right.metric("Products bought", f"{int(data.bought[row].nnz) if row >= 0 else 0:,}")
    source = recs["source"].iat[0] if len(recs) else "personal"
    if source == "segment":
        st.info(
            f"This customer has {orders} order{'s' if orders != 1 else ''}, fewer than the "
            f"{settings.min_orders} needed for a personal list, so they get the list of **{names[segment]}**.",
            icon=":material/group:",
        )
    elif source == "overall":
        st.info("This customer has no purchases to learn from, so they get the most popular products.")
    st.dataframe(
        recs[["rank", "product_id", "description", "score", "reason"]],
        hide_index=True,
        column_config=PRODUCT_COLUMNS
        | {
            "score": st.column_config.NumberColumn(
                "Score", format="%.3f", help="The model's own score: only the order within one list matters."
            ),
            "reason": "Why",
        },
    )


# --- churn risk ------------------------------------------------------------------------------------------------------


def show_churn(dataset: Dataset, config: Config, labels: pd.Series, order: list[int], names: dict[int, str]) -> None:
    as_of, days = churn_settings(dataset, config)
    st.subheader(f"Who is likely to stop buying in the {days} days from {as_of}?")
    st.caption(
        f"The churn model of the Value page, with its as-of date and horizon: a calibrated LightGBM on each "
        f"customer's features estimates the probability of no order in the {days} days from {as_of}, trained on "
        "what the customers did one horizon earlier. On Online Retail it ranks the customers who then stopped better "
        "than recency alone (AUROC 0.745 against 0.684, docs/value.md). The **Value** page says why each customer "
        "is at risk, and sets the date and the horizon."
    )
    run_id = f"churn_{dataset.digest}_{as_of}_{days}"
    workflow = components.analysis(dataset, config)
    expected = None if workflow.done("churn", as_of, days) else workflow.expected_seconds("churn")
    if not state.asked(
        run_id,
        "Estimate churn risk",
        icon=":material/play_arrow:",
        help="Trains the Value page's churn model once for both pages." + usually(expected),
        key="estimate_churn",
    ):
        if expected is not None:
            st.caption(usually(expected).strip())
        return
    try:
        with (
            state.cancellable(run_id, "cancel_churn"),
            st.spinner(f"Training the churn model (LightGBM).{usually(expected)}", show_time=True),
        ):
            risk = churn_risk(dataset, config, as_of, days)
    except SegmentationError as exc:  # e.g. an as-of date with no history before it
        components.show_error(exc)
        return
    scored = risk.reindex(labels.index)
    by_segment = scored.groupby(labels.to_numpy())
    unscored = int(scored.isna().sum())
    if unscored:
        st.caption(f"Not scored: {plural(unscored, 'customer')} with no order before {as_of}.")
    st.dataframe(
        pd.DataFrame(
            {
                "Segment": [names[s] for s in order],
                "Customers": [number(by_segment.count().get(s, 0)) for s in order],
                "Mean churn risk": [percent(by_segment.mean().get(s)) for s in order],
                "Expected to stop": [number(by_segment.sum().get(s, 0.0)) for s in order],
            }
        ),
        hide_index=True,
        column_config={
            "Customers": st.column_config.TextColumn(help="Customers of the segment the churn model scores."),
            "Expected to stop": st.column_config.TextColumn(
                help="The sum of the probabilities: how many of its customers the model expects to stop."
            ),
        },
    )
    components.download(
        st,
        "Churn risk per customer (CSV)",
        lambda: pd.DataFrame({"segment": labels.map(names), "churn_risk": scored.round(4)}).to_csv(),
        "churn_risk.csv",
        f"Every customer's segment and probability of no order in the {days} days from {as_of}.",
    )


# --- evaluation ------------------------------------------------------------------------------------------------------


def show_evaluation(dataset: Dataset, config: Config, new_only: bool) -> None:
    st.subheader("How well does each model predict the next purchases?")
    data = interactions(dataset, config)
    last = pd.Timestamp(data.end).date()
    first = pd.Timestamp(data.step_time.min()).date()
    quick = [MODEL_LABELS[name] for name in QUICK_MODELS]
    st.caption(
        "Every model is trained on the purchases before a cutoff date and ranks the whole catalogue for each "
        "customer who bought again after it; the measures compare its top 10 with what they really bought. "
        f"A quick evaluation: the {len(quick)} models that train in seconds ({', '.join(quick)}), one seed."
    )
    default = max(first + timedelta(days=1), last - timedelta(days=HOLDOUT_DAYS))
    cutoff = st.date_input(
        "Cutoff (train before, test from)",
        value=state.kept("recommend_cutoff", default),
        min_value=first + timedelta(days=1),
        max_value=last,
        **state.keeping("recommend_cutoff"),
    )
    st.caption(
        "The full evaluation, with the sequence models too, three seeds and the spread, is on the command line: "
        f"`segment recommend-eval FILE --cutoff {cutoff}`; add `--tune TRIALS` to tune each model first "
        "(docs/recommenders.md)."
    )
    run_id = f"recommend_eval_{dataset.digest}_{cutoff}"
    expected = timings().estimate(QUICK_EVALUATION, components.analysis(dataset, config).size(QUICK_EVALUATION))
    if not state.asked(
        run_id,
        "Evaluate the quick models",
        icon=":material/play_arrow:",
        help=f"Trains the {len(quick)} quick models once more on the purchases before the cutoff." + usually(expected),
        key="evaluate_models",
    ):
        if expected is not None:
            st.caption(usually(expected).strip())
        return
    try:
        with state.cancellable(run_id, "cancel_evaluation"):
            table = evaluation(dataset, config, cutoff)
    except SegmentationError as exc:
        st.error(f"The models cannot be evaluated at {cutoff}: {exc}. Choose another cutoff.")
        return
    measure = "cross-sell ndcg@10" if new_only else "ndcg@10"
    if table[measure].isna().all():
        st.warning("No customer bought again after this cutoff: choose an earlier date.")
        return
    table = table.sort_values(measure, ascending=False)
    shown = pd.DataFrame(
        {heading: [cell(column, v) for v in table[column]] for column, (heading, _) in SHOWN_METRICS.items()},
        index=table.index.map(MODEL_LABELS),
    )
    st.dataframe(
        shown.rename_axis("Model"),
        column_config={heading: st.column_config.TextColumn(help=help) for heading, help in SHOWN_METRICS.values()},
    )
    heading = SHOWN_METRICS[measure][0]
    kind = "products new to the customer" if new_only else "all products, repeats included"
    best = table[measure].round(3)
    leaders = [MODEL_LABELS[name] for name in best.index[best == best.iat[0]]]
    lead = f"**{leaders[0]}**" if len(leaders) == 1 else "a tie between " + " and ".join(f"**{m}**" for m in leaders)
    st.caption(
        f"Best for {kind} (the lists as set above) at this cutoff: {lead}, *{heading.lower()}* "
        f"{number(best.iat[0], 3)}. Hover over a heading for what it measures."
    )


if __name__ == "__main__":
    render()
