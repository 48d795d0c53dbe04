"""The Recommend page's model and settings, and its cached library calls, shared with the Export page (which adds
each customer's recommended products to the CRM file)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from recommenders.base import Recommender
from recommenders.data import Interactions
from recommenders.lists import products_per_customer, segment_list_length
from recommenders.names import MODEL_LABELS, MODEL_NOTES, default_model
from recommenders.segments import segment_top_products
from segmentation.config import Config
from segmentation.formatting import number, percent
from segmentation.progress import Progress
from segmentation.timing import describe, elapsed_text
from ui import components, state
from ui.components import Dataset

NEW_ONLY_DEFAULT = True
"""Lists hold products new to the customer unless the analyst asks for repeats: what marketers ask for most."""
MAX_N = 20
"""The longest list the Recommend page shows."""


def chosen_settings() -> tuple[str, int, bool]:
    """The model, orders needed for a personal list and new-products-only switch last set on the Recommend page."""
    exclude_bought = bool(state.kept("recommend_exclude", NEW_ONLY_DEFAULT))
    return (
        state.kept("recommend_model", default_model(exclude_bought)),
        int(state.kept("recommend_min_orders", 1)),
        exclude_bought,
    )


@dataclass(frozen=True)
class ListSettings:
    """How the lists are made: products per list, orders needed for a personal list, new products only."""

    n: int
    min_orders: int
    exclude_bought: bool


def controls(dataset: Dataset, config: Config) -> tuple[str, ListSettings]:
    new_only = bool(state.kept("recommend_exclude", NEW_ONLY_DEFAULT))
    workflow = components.analysis(dataset, config)
    estimates = {name: workflow.expected_seconds(f"recommender:{name}") for name in MODEL_LABELS}
    known = [f"{MODEL_LABELS[name]} {describe(seconds)}" for name, seconds in estimates.items() if seconds is not None]
    name = st.segmented_control(
        "Model",
        list(MODEL_LABELS),
        default=state.kept("recommend_model", default_model(new_only)),
        format_func=MODEL_LABELS.get,
        required=True,
        help="Which recommender makes the lists. The last tab measures how well each one predicts the next purchases."
        + (f" Training on this file, from this machine's earlier runs: {', '.join(known)}." if known else ""),
        **state.keeping("recommend_model"),
    )
    best = MODEL_LABELS[default_model(new_only)]
    kind = "products new to the customer" if new_only else "all products, repeats included"
    st.caption(f"**{MODEL_LABELS[name]}**: {MODEL_NOTES[name]}. {best} ranked best for {kind} in our evaluation.")
    st.caption(
        "Lists hold only products each customer has not bought yet (cross-sell, what a campaign offers); switch "
        "off *New products only* for replenishment lists with repeat purchases."
        if new_only
        else "Lists include repeat purchases (replenishment); switch on *New products only* for cross-sell lists of "
        "products each customer has not bought yet."
    )
    left, middle, right = st.columns(3)
    n = left.slider("Products per list", 3, MAX_N, state.kept("recommend_n", 10), **state.keeping("recommend_n"))
    min_orders = middle.number_input(
        "Orders needed for a personal list",
        min_value=1,
        max_value=20,
        value=state.kept("recommend_min_orders", 1),
        help="Customers with fewer orders get their segment's list instead (cold start).",
        **state.keeping("recommend_min_orders"),
    )
    exclude_bought = right.toggle(
        "New products only",
        value=new_only,
        help="Only products new to the customer: leave out what each customer has bought before (no repeat purchases).",
        **state.keeping("recommend_exclude"),
    )
    return name, ListSettings(n, int(min_orders), exclude_bought)


def interactions(dataset: Dataset, config: Config) -> Interactions:
    """Customer x product purchases and order sequences of the loaded data. Shared by all sessions: read only."""
    with st.spinner("Collecting the purchase histories…"):
        return components.analysis(dataset, config).interactions()


def fitted(dataset: Dataset, config: Config, name: str) -> Recommender:
    """The model trained on every purchase, once per data set and model (by the workflow), with a progress bar."""
    workflow = components.analysis(dataset, config)
    slot = st.empty()  # always there, trained or not: elements that come and go above the tabs reset them
    if workflow.done("recommender", name):
        return workflow.recommender(name)
    try:
        bar = slot.progress(0.0, text=f"Training {MODEL_LABELS[name]}…")
        report = timed_progress(bar, f"Training {MODEL_LABELS[name]}", workflow.expected_seconds(f"recommender:{name}"))
        return workflow.recommender(name, report)
    finally:
        slot.empty()


def usually(seconds: float | None) -> str:
    """The sentence " Usually about 40 s on this file." for before a long step starts; empty when this machine has
    no estimate."""
    return f" Usually {describe(seconds)} on this file." if seconds is not None else ""


def timed_progress(bar: Any, title: str, expected: float | None) -> Progress:
    """A progress callback that writes ``title``, the time so far against the ``expected`` seconds and the step
    (e.g. "Training GRU sequence (12 s of about 40 s): epoch 3/10")."""
    started = time.perf_counter()

    def report(done: float, step: str) -> None:
        bar.progress(done, text=f"{title} ({elapsed_text(time.perf_counter() - started, expected)}): {step}")

    return report


def segment_ids(current: state.Segmentation) -> pd.Series:
    """customer_id -> segment number of the current segmentation."""
    s = current
    labels = components.fit_segmentation(s.dataset, s.config, s.features, s.chosen, s.method, s.params).labels_
    table = components.customer_table(s.dataset, s.config, s.features)
    return pd.Series(labels, index=table.index.astype(str), name="segment")


@st.cache_data(show_spinner="Making the segment lists…", max_entries=32)
def segment_lists(current: state.Segmentation, name: str, exclude_bought: bool) -> pd.DataFrame:
    """Every segment's top products, long enough for the longest list shown and the cold-start fallback."""
    return segment_top_products(
        fitted(current.dataset, current.config, name),
        segment_ids(current),
        segment_list_length(MAX_N),
        exclude_bought=exclude_bought,
    )


@st.cache_data(show_spinner="Recommending products for every customer…", max_entries=16)
def customer_products(
    current: state.Segmentation, name: str, n: int, min_orders: int, exclude_bought: bool
) -> pd.Series:
    """customer_id -> list of the ``n`` recommended product ids, for every customer of the segmentation."""
    return products_per_customer(
        fitted(current.dataset, current.config, name),
        segment_ids(current),
        n,
        min_orders,
        exclude_bought,
        segment_lists(current, name, exclude_bought),
    )


def segment_picker(area: Any, title: str, order: list[int], names: dict[int, str], key: str) -> int:
    """A select box of segment names (kept across pages by name); returns the segment number."""
    options = [names[s] for s in order]
    kept = state.kept(key, options[0])
    choice = area.selectbox(title, options, index=options.index(kept) if kept in options else 0, **state.keeping(key))
    return order[options.index(choice)]


# evaluation column -> its plain-words heading and help (with the technical term)
SHOWN_METRICS: dict[str, tuple[str, str]] = {
    "ndcg@10": (
        "Next buys on top",
        "NDCG@10: 1 when the products each customer bought next fill the top of their list, 0 when none is in "
        "the top 10; repeat purchases count.",
    ),
    "cross-sell ndcg@10": (
        "New buys on top",
        "Cross-sell NDCG@10: the same with each customer's past products left out of the list and of what counts: "
        "how well the model finds products new to the customer.",
    ),
    "next-basket ndcg@10": (
        "Next order on top",
        "Next-basket NDCG@10: the same against each customer's first order after the cutoff only: how well the "
        "model fills the next basket (repeats count).",
    ),
    "hr@10": (
        "Customers hit",
        "HR@10: share of customers with a product they bought next in their top 10.",
    ),
    "recall@20": ("Buys found", "Recall@20: share of each customer's next products found in their top 20."),
    "map@10": ("Precision", "MAP@10: mean average precision of the top 10 (0 to 1)."),
    "coverage@10": ("Catalogue reached", "Coverage@10: share of the catalogue in at least one customer's top 10."),
    "train_s": ("Fit (s)", "Seconds to train the model on the purchases before the cutoff."),
}
SHARES = ("hr@10", "recall@20", "coverage@10")  # evaluation columns that are shares: shown as percentages


def cell(column: str, value: float) -> str:
    """An evaluation measure as the table shows it: shares as percentages, scores with 3 decimals, seconds with 1."""
    if column in SHARES:
        return percent(value)
    return number(value, 1 if column == "train_s" else 3)
