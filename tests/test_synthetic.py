"""The synthetic generator: determinism, layout, and that the planted structure is really there."""

import gzip

import numpy as np
import pandas as pd
import pytest

from segmentation import synthetic
from segmentation.synthetic import (
    COLUMNS,
    DIRT_RATES,
    NON_PRODUCT_SKUS,
    PERSONAS,
    SEGMENTS,
    SyntheticSpec,
    generate_transactions,
    main,
    successor_map,
    write_parts,
    write_sample,
)

DEFAULT = SyntheticSpec()
SMALL = SyntheticSpec(n_customers=300, seed=7)


@pytest.fixture(scope="module")
def default():
    """The default spec: the committed sample."""
    return generate_transactions(DEFAULT)


@pytest.fixture(scope="module")
def sales(default):
    """Registered customers' product lines of sales (no cancellations, guests, fees, duplicates)."""
    tx, _ = default
    keep = tx.customer_id.notna() & tx.order_id.str.isdigit() & ~tx.sku.isin(list(NON_PRODUCT_SKUS))
    return tx[keep].drop_duplicates()


def _orders(tx):
    return tx.drop_duplicates("order_id")


def test_same_seed_same_data_other_seed_other_data():
    tx, truth = generate_transactions(SMALL)
    tx2, truth2 = generate_transactions(SMALL)
    pd.testing.assert_frame_equal(tx, tx2)
    pd.testing.assert_frame_equal(truth, truth2)
    other, _ = generate_transactions(SyntheticSpec(n_customers=300, seed=8))
    assert not tx.head(1000).equals(other.head(1000))
    assert successor_map(SMALL) != successor_map(SyntheticSpec(seed=8))


def test_columns_dtypes_and_formats(default):
    tx, truth = default
    assert tuple(tx.columns) == COLUMNS
    assert tx.order_date.dtype == "datetime64[s]"
    assert tx.quantity.dtype == np.int64
    assert tx.unit_price.dtype == np.float64
    assert np.allclose(tx.unit_price, tx.unit_price.round(2))
    for column in ("order_id", "customer_id", "sku", "product_name", "category", "country", "channel", "email"):
        assert pd.api.types.is_string_dtype(tx[column]), column
    ids = tx.customer_id.dropna()
    assert ids.str.fullmatch(r"C\d{6}").all()
    assert (tx.email.dropna() == ids.str.lower() + "@example.com").all()
    assert set(tx.channel) == {"web", "app", "store"}
    countries = tx.drop_duplicates("customer_id").country.value_counts(normalize=True)
    assert 8 <= len(countries) <= 12 and countries.index[0] == "United Kingdom" and countries.iloc[0] > 0.7
    per_order = tx.groupby("order_id").agg(dates=("order_date", "nunique"), customers=("customer_id", "nunique"))
    assert (per_order.dates == 1).all() and (per_order.customers <= 1).all()
    assert tx.order_date.min() >= pd.Timestamp(DEFAULT.start)
    assert tx.order_date.max() < pd.Timestamp(DEFAULT.end) + pd.Timedelta(days=1)
    assert {"customer_id", "segment", "first_order", "n_orders"} <= set(truth.columns)
    assert truth.customer_id.is_unique and len(truth) == DEFAULT.n_customers


def test_personas_present_with_sensible_sizes_and_shapes(default, sales):
    _, truth = default
    share = truth.segment.value_counts(normalize=True)
    assert set(share.index) == set(SEGMENTS)
    for persona in PERSONAS:
        assert abs(share[persona.name] - persona.share) < 0.03, persona.name
    by = truth.groupby("segment")
    orders, value, last = by.n_orders.median(), by.avg_order_value.median(), by.last_order.max()
    assert orders["champions"] > 3 * orders["loyal_regulars"] > 3 * orders["lapsed"]
    assert (truth.n_orders[truth.segment == "bargain_one_timers"] <= 2).all()
    assert value["big_spenders"] > 4 * value.drop("big_spenders").max()
    end = pd.Timestamp(DEFAULT.end)
    assert last["lapsed"] < end - pd.Timedelta(days=250)
    assert by.first_order.min()["new_customers"] > end - pd.Timedelta(days=62)
    # The truth agrees with what the data shows.
    seen = sales.groupby("customer_id").agg(n=("order_id", "nunique"), first=("order_date", "min"))
    truth = truth.set_index("customer_id")
    assert (seen.n == truth.n_orders.reindex(seen.index)).all()
    assert (seen["first"] == truth.first_order.reindex(seen.index)).all()


def test_kmeans_on_rfm_features_recovers_personas(default):
    cluster = pytest.importorskip("sklearn.cluster")
    metrics = pytest.importorskip("sklearn.metrics")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    tx, truth = default
    tx = tx[tx.customer_id.notna() & ~tx.sku.isin(list(NON_PRODUCT_SKUS))].drop_duplicates()
    returns = tx.order_id.str.startswith("C")
    sales = tx[~returns].assign(value=lambda d: d.quantity * d.unit_price)
    by = sales.groupby("customer_id")
    snapshot = pd.Timestamp(DEFAULT.end) + pd.Timedelta(days=1)
    n_orders = by.order_id.nunique()
    features = pd.DataFrame(
        {
            "recency": np.log1p((snapshot - by.order_date.max()).dt.days),
            "frequency": np.log1p(n_orders),
            "monetary": np.log1p(by.value.sum() / n_orders),
            "tenure": np.log1p((snapshot - by.order_date.min()).dt.days),
            "return_rate": tx[returns].groupby("customer_id").order_id.nunique().reindex(n_orders.index, fill_value=0)
            / n_orders,
        }
    )
    x = preprocessing.RobustScaler().fit_transform(features)
    with threadpoolctl.threadpool_limits(1):  # tiny data: threads only add overhead
        labels = cluster.KMeans(len(SEGMENTS), n_init=10, random_state=0).fit_predict(x)
    segment = truth.set_index("customer_id").segment.reindex(features.index)
    assert metrics.adjusted_rand_score(segment, labels) >= 0.8


def test_successor_products_follow_in_the_next_order(sales):
    successors = successor_map(DEFAULT)
    assert len(successors) == 2 * (DEFAULT.n_products // 12)
    assert set(successors) | set(successors.values()) <= set(sales.sku)
    orders = sales.drop_duplicates("order_id").sort_values(["customer_id", "order_date", "order_id"])
    orders["next_order"] = orders.groupby("customer_id").order_id.shift(-1)
    trigger = sales[sales.sku.isin(successors)].merge(orders[["order_id", "next_order"]], on="order_id")
    trigger = trigger[trigger.next_order.notna()].assign(successor=lambda d: d.sku.map(successors))
    bought = sales[["order_id", "sku"]].set_axis(["next_order", "successor"], axis=1).assign(hit=True)
    hits = trigger.merge(bought, on=["next_order", "successor"], how="left").hit.notna()
    # Base rate: how often the successor is in an order at all.
    in_orders = sales.groupby("sku").order_id.nunique() / sales.order_id.nunique()
    base_rate = in_orders.reindex(trigger.successor).fillna(0).mean()
    assert len(trigger) > 1000
    assert hits.mean() >= 0.6
    assert base_rate < 0.1 and hits.mean() > 5 * base_rate


def test_seasonality_weekdays_and_hours(default):
    tx, _ = default
    orders = _orders(tx[tx.order_id.str.isdigit()])
    quarter = orders.order_date.dt.quarter.value_counts(normalize=True)
    assert quarter[4] > 1.2 * quarter.drop(4).max()
    weekday = orders.order_date.dt.day_of_week.value_counts(normalize=True)
    assert weekday.idxmin() == 6 and weekday[6] < 0.7 * weekday.drop(6).min()
    assert orders.order_date.dt.hour.between(8, 20).mean() > 0.85


def test_long_tail_categories_and_repeat_purchases(default, sales):
    tx, truth = default
    popularity = sales.sku.value_counts()
    assert popularity.iloc[: len(popularity) // 5].sum() > 0.5 * popularity.sum()
    assert tx.category.nunique() == 12
    prices = sales.drop_duplicates("sku").unit_price
    assert prices.max() > 10 * prices.median()
    # Buy-again: a large share of lines repeat an earlier purchase; favourites are bought.
    ordered = sales.sort_values("order_date")
    assert ordered.duplicated(["customer_id", "sku"]).mean() > 0.4
    favourites = truth.set_index("customer_id").favourite_skus.str.split()
    loyal = truth.customer_id[truth.segment == "loyal_regulars"]
    lines = sales[sales.customer_id.isin(loyal)]
    is_favourite = [s in favourites[c] for c, s in zip(lines.customer_id, lines.sku, strict=True)]
    assert np.mean(is_favourite) > 0.4


def test_dirt_is_present_at_the_documented_rates(default):
    tx, _ = default
    orders = _orders(tx)
    sale_orders = orders.order_id.str.isdigit().sum()
    guest = tx.customer_id.isna()
    assert abs(guest.mean() - DIRT_RATES["guest_line_share"]) < 0.03
    assert tx.email[guest].isna().all()
    assert guest.groupby(tx.order_id).mean().isin([0.0, 1.0]).all()  # guests are whole orders
    # Cancellations: about 2% of orders, negative, matching an earlier purchase of the same customer.
    cancel = tx[tx.order_id.str.startswith("C")]
    assert 0.012 < cancel.order_id.nunique() / sale_orders < 0.03
    assert (cancel.quantity < 0).all() and cancel.customer_id.notna().all()
    earlier = cancel.merge(
        tx[tx.order_id.str.isdigit()][["customer_id", "sku", "order_date", "unit_price"]],
        on=["customer_id", "sku"],
        suffixes=("", "_sale"),
    )
    earlier = earlier[earlier.order_date_sale <= earlier.order_date]
    matched = earlier.drop_duplicates(["order_id", "sku"])
    assert 0.95 < len(matched) / len(cancel.drop_duplicates(["order_id", "sku"])) < 1
    assert abs(tx.duplicated().mean() - DIRT_RATES["duplicate_line"]) < 0.004
    fees = tx.sku.value_counts()
    assert all(fees.get(sku, 0) > 0 for sku in ("POST", "DOT", "BANK CHARGES", "AMAZONFEE", "M"))
    assert fees["POST"] > fees["DOT"] > fees["M"]
    bad_debt = tx[tx.unit_price < 0]
    assert len(bad_debt) == 2
    assert (bad_debt.product_name == "Adjust bad debt").all() and bad_debt.order_id.str.startswith("A").all()
    zero = tx.unit_price == 0
    assert 0.001 < zero.mean() < 0.004
    assert 0 < tx.product_name.isna().sum() < zero.sum() and zero[tx.product_name.isna()].all()


def test_clean_spec_has_no_dirt():
    tx, truth = generate_transactions(SyntheticSpec(n_customers=300, seed=3, dirty=False))
    assert tx.notna().all().all()
    assert tx.order_id.str.isdigit().all()
    assert not tx.sku.isin(list(NON_PRODUCT_SKUS)).any()
    assert (tx.quantity > 0).all() and (tx.unit_price > 0).all()
    assert not tx.duplicated().any()
    assert (truth.n_returns == 0).all()


def test_write_sample_round_trip_is_byte_identical(tmp_path):
    path, truth_path = tmp_path / "tx.csv.gz", tmp_path / "truth.csv"
    n = write_sample(path, SMALL, truth_path)
    with gzip.open(path, "rt") as f:
        assert f.readline().strip() == ",".join(COLUMNS)
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert len(back) == n
    assert back.customer_id[back.customer_id != ""].str.fullmatch(r"C\d{6}").all()
    assert back.unit_price.str.fullmatch(r"-?\d+\.\d\d").all()
    tx, truth = generate_transactions(SMALL)
    assert (back.order_id == tx.order_id).all()
    assert (back.order_date == tx.order_date.dt.strftime("%Y-%m-%d %H:%M:%S")).all()
    assert np.allclose(back.unit_price.astype(float), tx.unit_price)
    assert (back.quantity.astype(int) == tx.quantity).all()
    pd.testing.assert_frame_equal(
        pd.read_csv(truth_path, dtype={"customer_id": str}, parse_dates=["first_order", "last_order"]),
        truth,
        check_dtype=False,
    )
    again = tmp_path / "again.csv.gz"
    write_sample(again, SMALL)
    assert again.read_bytes() == path.read_bytes()
    plain = tmp_path / "tx.csv"
    assert write_sample(plain, SMALL) == n
    assert gzip.decompress(path.read_bytes()) == plain.read_bytes()


def test_streaming_in_chunks_keeps_ids_unique(monkeypatch, tmp_path):
    monkeypatch.setattr(synthetic, "CHUNK_CUSTOMERS", 100)
    spec = SyntheticSpec(n_customers=250, seed=5)
    tx, truth = generate_transactions(spec)
    assert list(truth.customer_id) == [f"C{i:06d}" for i in range(1, 251)]
    assert tx.groupby("order_id").order_date.nunique().max() == 1
    assert (tx.unit_price < 0).sum() == 2
    assert write_sample(tmp_path / "tx.csv", spec) == len(tx)


def test_parts_hold_the_same_lines_and_each_customer_whole(monkeypatch, tmp_path):
    monkeypatch.setattr(synthetic, "CHUNK_CUSTOMERS", 100)
    spec = SyntheticSpec(n_customers=450, seed=5)
    write_sample(tmp_path / "whole.csv", spec)
    parts = write_parts(tmp_path / "parts", spec, lines_per_part=15_000)
    assert [p.name for p in parts] == [f"part-{i:05d}.csv" for i in range(len(parts))] and len(parts) > 1
    whole = (tmp_path / "whole.csv").read_text().splitlines()
    texts = [p.read_text().splitlines() for p in parts]
    assert all(text[0] == whole[0] for text in texts)  # each part has the header
    assert [line for text in texts for line in text[1:]] == whole[1:]
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in parts]
    owners = [set(f.customer_id) - {""} for f in frames]  # guest lines have no customer
    assert sum(map(len, owners)) == len(set().union(*owners))


def test_cli_writes_the_files(tmp_path):
    main(["--customers", "40", "--seed", "2", "--out", str(tmp_path / "s.csv.gz"), "--truth", str(tmp_path / "t.csv")])
    assert len(pd.read_csv(tmp_path / "t.csv")) == 40
    assert len(pd.read_csv(tmp_path / "s.csv.gz")) > 40


def test_invalid_spec_is_rejected():
    with pytest.raises(ValueError):
        SyntheticSpec(n_customers=0)
    with pytest.raises(ValueError):
        SyntheticSpec(start="2023-01-01", end="2023-01-10")


def _same_collection_share(spec: SyntheticSpec) -> float:
    """Share of pairs of distinct products in one order that belong to one planted collection."""
    tx, _ = generate_transactions(spec)
    world = synthetic._world(spec)
    place = pd.Series(np.argsort(world.collection) // synthetic.COLLECTION_SIZE, index=world.sku.to_pylist()[:2000])
    lines = tx.loc[tx.sku.isin(place.index), ["order_id", "sku"]].drop_duplicates()
    pairs = lines.merge(lines, on="order_id").query("sku_x < sku_y")
    return float((place[pairs.sku_x].to_numpy() == place[pairs.sku_y].to_numpy()).mean())


def test_co_purchase_plants_collections_bought_together():
    planted = _same_collection_share(SyntheticSpec(n_customers=400, n_products=2000, co_purchase=0.4, seed=1))
    plain = _same_collection_share(SyntheticSpec(n_customers=400, n_products=2000, seed=1))
    chance = (synthetic.COLLECTION_SIZE - 1) / 1999
    print(f"pairs in one collection: planted {planted:.3f}, without {plain:.4f}, chance {chance:.4f}")
    assert planted > 10 * chance and plain < 3 * chance


def test_catalogues_beyond_90000_products_get_unique_skus():
    world = synthetic._world(SyntheticSpec(n_customers=10, n_products=100_000))
    skus = world.sku.to_pylist()[:100_000]
    assert len(set(skus)) == 100_000 and len(set(world.name.to_pylist()[:100_000])) == 100_000
    with pytest.raises(ValueError, match="co_purchase"):
        SyntheticSpec(co_purchase=1.5)
