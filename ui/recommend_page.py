"""Recommend page: which products to offer each segment and each customer, and how well each model predicts."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import streamlit as st

from recommenders.base import Recommender
from recommenders.lists import lists_at_a_glance, named_segment_lists
from recommenders.names import MODEL_LABELS, default_model
from recommenders.segments import customer_top_products
from segmentation.clustering.names import METHOD_LABELS
from segmentation.clustering.present import display_names, ordered_segments
from segmentation.config import Config
from segmentation.errors import SegmentationError
from ui import components, state
from ui.components import Dataset
from ui.recommend_widgets import (
    NEW_ONLY_DEFAULT,
    ListSettings,
    controls,
    fitted,
    interactions,
    segment_ids,
    segment_lists,
    segment_picker,
)

HOLDOUT_DAYS = 90
CHURN_DAYS = 90
PICKER_OPTIONS = 20_000
TRAINED = "recommend_trained"  # session key of the last model trained to the end: a cancelled training goes back to it
PRODUCT_COLUMNS = {
    "rank": st.column_config.NumberColumn("Rank", width="small"),
    "product_id": "Product",
    "description": "Description",
}
SHOWN_METRICS = {
    "ndcg@10": "NDCG@10",
    "hr@10": "HR@10",
    "recall@20": "Recall@20",
    "map@10": "MAP@10",
    "ndcg@10 repeat": "NDCG@10 repeat",
    "ndcg@10 new": "NDCG@10 new",
    "coverage@10": "Coverage@10",
    "train_s": "Fit (s)",
}


def render() -> None:
    st.title("Recommend")
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
    name, settings = controls()
    recommender = trained(current, name)
    labels = segment_ids(current)
    lists = segment_lists(current, name, settings.exclude_bought)
    by_segment, by_customer, churn, evaluation = st.tabs(
        ["By segment", "By customer", "Churn risk", "How good is each model?"]
    )
    with by_segment:
        show_segment(lists, labels, order, names, settings.n, name)
    with by_customer:
        show_customer(recommender, lists, labels, order, names, settings)
    with churn:
        show_churn(current.dataset, current.config, labels, order, names)
    with evaluation:
        show_evaluation(current.dataset, current.config)


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


@st.cache_data(show_spinner=False, max_entries=8)
def churn_risk(dataset: Dataset, config: Config) -> pd.Series:
    """Each customer's probability of no order in the ``CHURN_DAYS`` after the data ends, from a GRU with a churn
    head trained on every purchase (with a progress bar)."""
    from recommenders.sequence.model import SequenceRecommender  # imports torch: only when asked for

    slot = st.empty()
    try:
        bar = slot.progress(0.0, text="Training the churn model…")
        model = SequenceRecommender("gru", churn_days=CHURN_DAYS).fit(
            interactions(dataset, config),
            lambda done, step: bar.progress(done, text=f"Training the churn model: {step}"),
        )
        return model.churn_probability(model.interactions.customers)
    finally:
        slot.empty()


@st.cache_data(show_spinner=False, max_entries=8)
def evaluation(dataset: Dataset, config: Config, cutoff: date) -> pd.DataFrame:
    """Every model fitted before ``cutoff`` and scored on the purchases from it on (one seed), with a progress bar."""
    from recommenders.evaluate import evaluate_models, standard_models

    slot = st.empty()
    try:
        bar = slot.progress(0.0, text="Evaluating…")
        return evaluate_models(
            components.load(dataset, config).transactions,
            cutoff.isoformat(),
            standard_models(),
            seeds=(0,),
            progress=lambda done, step: bar.progress(done, text=f"Evaluating: {step}"),
        )
    finally:
        slot.empty()


# --- by segment ------------------------------------------------------------------------------------------------------


def show_segment(
    lists: pd.DataFrame, labels: pd.Series, order: list[int], names: dict[int, str], n: int, name: str
) -> None:
    st.subheader("Top products per segment")
    st.caption(
        "A segment's list gathers its customers' own recommendations: *recommended to* is the share of the "
        "segment's customers whose list holds the product; *lift* compares it with all customers (2× = twice as "
        "often as for everyone; 1× = no different); *already bought by* is the share who bought it before."
    )
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
    )
    segment = segment_picker(st, "Segment", order, names, "recommend_segment")
    rows = lists.loc[(lists["segment"] == segment) & (lists["rank"] <= n)]
    if rows.empty:
        st.info(f"{names[segment]} has no customers with a recommendation.")
        return
    st.dataframe(
        rows[["rank", "product_id", "description", "recommended_to", "lift", "bought_by", "reason"]],
        hide_index=True,
        column_config=PRODUCT_COLUMNS
        | {
            "recommended_to": st.column_config.ProgressColumn(
                "Recommended to", format="percent", min_value=0.0, max_value=1.0
            ),
            "lift": st.column_config.NumberColumn("Lift", format="%.1f×"),
            "bought_by": st.column_config.ProgressColumn(
                "Already bought by", format="percent", min_value=0.0, max_value=1.0
            ),
            "reason": "Most common reason",
        },
    )
    components.download(
        st,
        "All segment lists (CSV)",
        lambda: named_segment_lists(lists, names, n).to_csv(index=False),
        f"segment_recommendations_{name}.csv",
        "Every segment's top products with share, lift, already-bought share and reason.",
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
    st.subheader(f"Who is likely to stop buying in the next {CHURN_DAYS} days?")
    st.caption(
        f"A GRU over each customer's orders with a churn head estimates the probability of no order in the "
        f"{CHURN_DAYS} days after the data ends, given the orders and the days since the latest one. On Online Retail "
        "it ranks the customers who then stopped as well as a logistic regression on recency, orders and revenue "
        "(AUROC 0.74) and better than recency alone (0.68): see docs/recommenders.md."
    )
    run_id = f"churn_{dataset.digest}"
    if not state.asked(
        run_id,
        "Estimate churn risk",
        icon=":material/play_arrow:",
        help="Trains the churn model on every purchase (about as long as the GRU sequence model).",
        key="estimate_churn",
    ):
        return
    with state.cancellable(run_id, "cancel_churn"):
        risk = churn_risk(dataset, config).reindex(labels.index)
    by_segment = risk.groupby(labels.to_numpy())
    st.dataframe(
        pd.DataFrame(
            {
                "Segment": [names[s] for s in order],
                "Customers": [int(by_segment.size().get(s, 0)) for s in order],
                "Mean churn risk": [float(by_segment.mean().get(s, np.nan)) for s in order],
                "Expected to stop": [float(by_segment.sum().get(s, 0.0)) for s in order],
            }
        ),
        hide_index=True,
        column_config={
            "Mean churn risk": st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0),
            "Expected to stop": st.column_config.NumberColumn(
                format="%.0f", help="The sum of the probabilities: how many of its customers the model expects to stop."
            ),
        },
    )
    components.download(
        st,
        "Churn risk per customer (CSV)",
        lambda: pd.DataFrame({"segment": labels.map(names), "churn_risk": risk.round(4)}).to_csv(),
        "churn_risk.csv",
        f"Every customer's segment and probability of no order in the {CHURN_DAYS} days after the data ends.",
    )


# --- evaluation ------------------------------------------------------------------------------------------------------


def show_evaluation(dataset: Dataset, config: Config) -> None:
    st.subheader("How well does each model predict the next purchases?")
    data = interactions(dataset, config)
    last = pd.Timestamp(data.end).date()
    first = pd.Timestamp(data.step_time.min()).date()
    st.caption(
        "Every model is trained on the purchases before a cutoff date and ranks the whole catalogue for each "
        "customer who bought again after it; the measures compare its top 10 with what they really bought. "
        "*Repeat* counts only products the customer had bought before, *new* only the others. One seed here; "
        "`segment recommend-eval` runs three and reports the spread."
    )
    default = max(first + timedelta(days=1), last - timedelta(days=HOLDOUT_DAYS))
    cutoff = st.date_input(
        "Cutoff (train before, test from)",
        value=state.kept("recommend_cutoff", default),
        min_value=first + timedelta(days=1),
        max_value=last,
        **state.keeping("recommend_cutoff"),
    )
    run_id = f"recommend_eval_{dataset.digest}_{cutoff}"
    if not state.asked(
        run_id,
        "Evaluate all models",
        icon=":material/play_arrow:",
        help=f"Trains all {len(MODEL_LABELS)} models once more on the earlier purchases (the sequence models take "
        "longest).",
        key="evaluate_models",
    ):
        return
    try:
        with state.cancellable(run_id, "cancel_evaluation"):
            table = evaluation(dataset, config, cutoff)
    except SegmentationError as exc:
        st.error(f"The models cannot be evaluated at {cutoff}: {exc}. Choose another cutoff.")
        return
    shown = table[list(SHOWN_METRICS)].rename(columns=SHOWN_METRICS, index=MODEL_LABELS)
    shown = shown.sort_values("NDCG@10", ascending=False).rename_axis("Model")
    best = shown.index[0]
    st.dataframe(
        shown,
        column_config={name: st.column_config.NumberColumn(format="%.3f") for name in shown.columns[:-1]}
        | {"Fit (s)": st.column_config.NumberColumn(format="%.1f")},
    )
    st.caption(
        f"Best by NDCG@10 at this cutoff: **{best}** ({shown['NDCG@10'].iat[0]:.3f}). NDCG@10 rewards the right "
        "products near the top; HR@10 is the share of customers with at least one right product in their top 10; "
        "coverage is the share of the catalogue that reaches anyone's top 10."
    )
    if np.isnan(shown["NDCG@10"]).all():
        st.warning("No customer bought again after this cutoff: choose an earlier date.")


if __name__ == "__main__":
    render()
