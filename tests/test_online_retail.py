"""The whole pipeline on the real UCI Online Retail file, against counts computed here independently."""

from __future__ import annotations

import pandas as pd
import pytest

from segmentation.config import FeatureConfig
from segmentation.features import compute_features, rfm_table
from segmentation.pipeline import load_transactions, transactions_summary

from .test_features import assert_same_features, pandas_features

pytestmark = pytest.mark.slow

NON_PRODUCT = {"POST", "DOT", "M", "C2", "D", "S", "B", "CRUK", "PADS", "BANK CHARGES", "AMAZONFEE", "ADJUST"}


@pytest.fixture(scope="module")
def raw(online_retail_path) -> pd.DataFrame:
    return pd.read_csv(online_retail_path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def result(online_retail_path):
    return load_transactions(online_retail_path)


def test_counts_match_an_independent_reading(raw: pd.DataFrame, result) -> None:
    assert result.validation.rows_read == len(raw) == 541_909
    assert result.validation.ok
    counts = result.cleaning.counts
    no_customer = raw["CustomerID"] == ""
    assert counts["missing_customer_id"] == no_customer.sum() == 135_080
    with_customer = raw[~no_customer]
    code = with_customer["StockCode"]
    non_product = code.str.upper().isin(NON_PRODUCT) | code.str.lower().str.startswith("gift_")
    assert counts["non_product_code"] == non_product.sum()
    products = with_customer[~non_product]
    key = ["CustomerID", "InvoiceNo", "InvoiceDate", "StockCode", "Quantity", "UnitPrice", "Description"]
    assert counts["exact_duplicate"] == products.duplicated(subset=key).sum()
    cancellations = (
        raw["InvoiceNo"].str.startswith("C") & ~no_customer & ~non_product.reindex(raw.index, fill_value=False)
    )
    returns = counts.get("return_netted", 0) + counts.get("return_unmatched", 0)
    assert returns <= cancellations.sum()  # duplicates, outliers and zero prices among them go first
    assert result.cleaning.rows_in - result.cleaning.rows_kept == sum(
        n for r, n in counts.items() if r != "return_netted"
    )


def test_summary_of_clean_data(raw: pd.DataFrame, result) -> None:
    summary = transactions_summary(result.transactions)
    raw_customers = raw.loc[raw["CustomerID"] != "", "CustomerID"].str.removesuffix(".0").nunique()
    assert raw_customers == 4_372
    assert 4_300 <= summary["customers"] <= raw_customers
    assert summary["first_ts"] == "2010-12-01 08:26:00"
    assert summary["last_ts"] == "2011-12-09 12:50:00"
    assert result.to_pandas()["customer_id"].str.fullmatch(r"\d{5}").all()  # "17850.0" became "17850"


def test_features_on_real_data_match_pandas(result) -> None:
    tx = result.to_pandas()
    as_of = pd.Timestamp("2011-12-10").date()
    ours = compute_features(result.transactions, FeatureConfig(as_of=as_of))
    assert_same_features(ours, pandas_features(tx, as_of), tolerance=1e-7)
    # A figure known from the literature on this data set: customer 12347 spent 4,310.00.
    assert ours.loc["12347", "monetary"] == pytest.approx(4310.0)
    assert ours.loc["12347", "frequency"] == 7


def test_rfm_segments_on_real_data(result) -> None:
    table = rfm_table(compute_features(result.transactions))
    shares = table["rfm_segment"].value_counts(normalize=True)
    assert set(shares.index) >= {"Champions", "Loyal", "At Risk", "Hibernating", "Lost"}
    assert shares.max() < 0.35
    champions = table[table["rfm_segment"] == "Champions"]
    assert champions["monetary"].median() > table["monetary"].median() * 3


def test_all_five_segmenters_run_on_real_customers(result) -> None:
    from segmentation.clustering import METHODS, NOISE, SegmentationModel

    features = compute_features(result.transactions)
    rfm = rfm_table(features)["rfm_segment"]
    for method in METHODS:
        params = {} if method == "hdbscan" else {"n_clusters": 5}
        model = SegmentationModel(method, params).fit(features, rfm)
        profiles = model.profiles_
        real = profiles.drop(index=NOISE, errors="ignore")
        assert real["customers"].min() > 1, method  # no segment of one customer
        assert profiles["customers"].sum() == len(features), method  # nobody dropped
        assert profiles["revenue_share"].sum() == pytest.approx(1.0)
        assert real["name"].is_unique and "top_rfm_segment" in profiles


def test_explanations_on_real_customers(result) -> None:
    from segmentation.clustering import SegmentationModel
    from segmentation.explain import (
        MODELS,
        SegmentSurrogate,
        explain,
        importance_agreement,
        segment_drivers,
        surrogate_inputs,
    )

    features = compute_features(result.transactions)
    model = SegmentationModel("kmeans", {"n_clusters": 5}).fit(features)
    X = surrogate_inputs(features)
    explanations = {}
    for kind in MODELS:
        surrogate = SegmentSurrogate(kind).fit(X, model.labels_)
        print(kind, "fidelity", surrogate.fidelity_)
        assert surrogate.fidelity_["macro_f1"] > 0.8
        explanations[kind] = explain(surrogate, X, model.labels_, sample_size=1_000)
        drivers = segment_drivers(explanations[kind], model.names_)
        assert drivers["segment"].nunique() == 5
        # the clustering features should be among what the surrogate relies on
        top = set(drivers["feature"])
        assert top & {"recency_days", "frequency", "monetary", "avg_order_value", "tenure_days", "gross_revenue"}
    assert importance_agreement(*explanations.values())["overall"] > 0.5
