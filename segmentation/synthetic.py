"""Synthetic retail transactions with planted, documented structure.

The generator produces a shop's raw order-line export (one row per order line) and a
"truth" table with one row per registered customer. What is planted -- personas,
product popularity, seasonality, favourite products, a product successor map, and
realistic dirt -- is described in ``data/README.md`` so that segmentation and
recommendation code can be checked against it.

Everything is vectorised with numpy and pyarrow. Customers are generated in blocks of
``CHUNK_CUSTOMERS``, each block with its own random stream derived from the seed, so the
output depends only on the spec and big files can be streamed with bounded memory.
"""

from __future__ import annotations

import argparse
import gzip
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

logger = logging.getLogger(__name__)

COLUMNS = (
    "order_id",
    "order_date",
    "customer_id",
    "sku",
    "product_name",
    "category",
    "quantity",
    "unit_price",
    "country",
    "channel",
    "email",
)
CSV_HEADER = (",".join(COLUMNS) + "\n").encode()
CHUNK_CUSTOMERS = 20_000
ORDER_NUMBER_START = 100_000
CHANNELS = ("web", "app", "store")
COUNTRIES = (
    ("United Kingdom", 0.83),
    ("Germany", 0.035),
    ("France", 0.03),
    ("EIRE", 0.025),
    ("Spain", 0.015),
    ("Netherlands", 0.015),
    ("Belgium", 0.015),
    ("Switzerland", 0.015),
    ("Portugal", 0.015),
    ("Australia", 0.005),
)
CATEGORIES = (
    "home decor",
    "kitchen",
    "stationery",
    "toys",
    "garden",
    "lighting",
    "bags",
    "jewellery",
    "party",
    "christmas",
    "bath & beauty",
    "pets",
)
# Non-product lines: sku -> product name. "B" only appears in the two bad-debt adjustments.
NON_PRODUCT_SKUS = {
    "POST": "POSTAGE",
    "DOT": "DOTCOM POSTAGE",
    "BANK CHARGES": "Bank Charges",
    "AMAZONFEE": "AMAZON FEE",
    "M": "Manual",
    "B": "Adjust bad debt",
}
SUCCESSOR_PROB = 0.7
COLLECTION_SIZE = 8
"""Products per collection, the co-purchase groups of ``SyntheticSpec.co_purchase``."""
# Rates of the dirt added when ``SyntheticSpec.dirty`` is true (see data/README.md).
DIRT_RATES = {
    "guest_line_share": 0.17,  # share of lines in guest orders (no customer_id, no email)
    # return of a product the customer never bought (bought before the export began), for customers
    # whose first order is in the first 60 days, within 60 days of it
    "unmatched_return_per_early_customer": 0.015,
    "post_per_foreign_order": 0.2,  # POST line on orders from outside the United Kingdom
    "dot_per_guest_web_order": 0.1,  # DOT line on guest web orders
    "manual_per_order": 0.002,  # M line
    "bank_charges_per_order": 0.0005,  # BANK CHARGES line
    "amazonfee_per_order": 0.0003,  # stand-alone guest order with one AMAZONFEE line
    "zero_price_line": 0.002,  # product line with unit_price 0.00 ...
    "empty_name_given_zero_price": 0.5,  # ... half of which also lose their product_name
    "duplicate_line": 0.01,  # exact copy of a line, written right after it
    "bad_debt_lines": 2,  # "Adjust bad debt" lines with a negative price (order_id "A...")
}

# Calendar: relative order intensity by month (Jan..Dec), weekday (Mon..Sun) and hour.
_MONTH_WEIGHT = np.array([0.8, 0.8, 0.9, 0.9, 0.95, 0.9, 0.85, 0.9, 1.1, 1.2, 1.7, 1.4])
_WEEKDAY_WEIGHT = np.array([1.0, 1.05, 1.1, 1.1, 1.0, 0.85, 0.45])
_HOUR_WEIGHT = np.array(
    [0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 2, 4, 5, 5.5, 6, 6, 5.5, 5, 4.5, 4, 3.5, 3, 2.5, 1.5, 0.8, 0.4]
)  # fmt: skip
_CHRISTMAS_SEASON = (4.0, 0.25)  # weight of the christmas category in Oct-Dec, in Jan-Sep

_ADJECTIVES = (
    "RED", "BLUE", "PINK", "GREEN", "WHITE", "IVORY", "VINTAGE", "RETRO", "SPOTTY", "STRIPED",
    "FLORAL", "RUSTIC", "GLASS", "WOODEN", "ENAMEL", "CERAMIC", "HEART", "STAR", "BIRD", "PAISLEY",
)  # fmt: skip
_NOUNS = {
    "home decor": ("CUSHION COVER", "PHOTO FRAME", "WALL SIGN", "DOORSTOP", "CLOCK", "VASE"),
    "kitchen": ("MUG", "TEA TOWEL", "CAKE TIN", "LUNCH BOX", "JAM JAR", "APRON"),
    "stationery": ("NOTEBOOK", "PENCIL SET", "GIFT WRAP", "STICKER SHEET", "GREETING CARD", "MEMO PAD"),
    "toys": ("SPINNING TOP", "SKIPPING ROPE", "JIGSAW", "TOY CAR", "RAG DOLL", "PLAY TENT"),
    "garden": ("PLANT POT", "WATERING CAN", "BIRD FEEDER", "KNEELER", "SEED TIN", "LANTERN"),
    "lighting": ("T-LIGHT HOLDER", "FAIRY LIGHTS", "TABLE LAMP", "NIGHT LIGHT", "CANDLE", "LAMPSHADE"),
    "bags": ("SHOPPER BAG", "JUMBO BAG", "PURSE", "LUNCH BAG", "WASH BAG", "TOTE"),
    "jewellery": ("NECKLACE", "BRACELET", "EARRINGS", "HAIR CLIP", "RING", "BROOCH"),
    "party": ("BUNTING", "PAPER PLATES", "NAPKINS", "BALLOONS", "PARTY CONES", "CAKE CASES"),
    "christmas": ("BAUBLE", "ADVENT CALENDAR", "STOCKING", "WREATH", "TREE TOPPER", "CRACKERS"),
    "bath & beauty": ("SOAP DISH", "BATH BOMB", "HAND CREAM", "TOWEL", "SPONGE BAG", "SOAP"),
    "pets": ("DOG BOWL", "CAT TOY", "PET BED", "DOG LEAD", "TREAT JAR", "COLLAR"),
}
_CATEGORY_PRICE = {
    "home decor": 1.3, "kitchen": 1.0, "stationery": 0.6, "toys": 1.0, "garden": 1.2, "lighting": 1.8,
    "bags": 1.0, "jewellery": 1.4, "party": 0.5, "christmas": 0.9, "bath & beauty": 0.9, "pets": 1.1,
}  # fmt: skip
# Product chains for the successor map: kit -> refill -> accessory, all in the theme's category.
_THEMES = (
    ("WATERCOLOUR", "stationery"), ("CALLIGRAPHY", "stationery"), ("CANDLE MAKING", "lighting"),
    ("SOURDOUGH", "kitchen"), ("COFFEE BREWING", "kitchen"), ("SEED SOWING", "garden"),
    ("TERRARIUM", "garden"), ("EMBROIDERY", "home decor"), ("MACRAME", "home decor"),
    ("SOAP MAKING", "bath & beauty"), ("AQUARIUM", "pets"), ("BEAD JEWELLERY", "jewellery"),
    ("BALLOON ARCH", "party"), ("GINGERBREAD HOUSE", "christmas"), ("MODEL RAILWAY", "toys"),
    ("CROSS STITCH", "bags"),
)  # fmt: skip
_CHAIN_STEPS = (("STARTER KIT", 3.0), ("REFILL PACK", 0.7), ("ACCESSORY SET", 1.0))  # name, price factor


@dataclass(frozen=True)
class _Persona:
    name: str
    share: float  # share of registered customers
    first: tuple[float, float]  # window of the first order, as fractions of the history
    active: tuple[float, float] | None  # length of the active period (fraction); None: until the end
    gap_days: float  # median days between orders
    regular: bool  # orders on a near-fixed cadence rather than at random times
    max_orders: int
    extra_lines: float  # lines per order: 1 + Poisson(extra_lines)
    extra_qty: float  # quantity per line: 1 + Poisson(extra_qty)
    price_pref: float  # product weight is multiplied by (price / median price) ** price_pref
    fav_prob: float  # chance that a line is one of the customer's favourite products
    cancel_prob: float  # chance that an order is later (partly) cancelled
    categories: tuple[str, ...]  # preferred categories, weight x4
    channels: tuple[float, float, float]  # preferred channel probabilities: web, app, store


PERSONAS = (
    _Persona("champions", 0.05, (0.0, 0.1), None, 7, False, 10**6, 4.0, 5.0, 0.3, 0.45, 0.03,
             ("home decor", "kitchen", "lighting"), (0.45, 0.45, 0.10)),
    _Persona("loyal_regulars", 0.15, (0.0, 0.3), None, 30, True, 10**6, 3.0, 0.8, 0.0, 0.55, 0.02,
             ("kitchen", "bath & beauty", "pets"), (0.4, 0.3, 0.3)),
    _Persona("big_spenders", 0.04, (0.0, 0.5), None, 120, False, 10**6, 9.0, 10.0, 0.8, 0.2, 0.12,
             ("lighting", "jewellery", "home decor"), (0.6, 0.1, 0.3)),
    _Persona("lapsed", 0.22, (0.0, 0.3), (0.1, 0.3), 30, False, 10**6, 2.5, 1.0, 0.0, 0.35, 0.015,
             ("toys", "party", "christmas"), (0.5, 0.2, 0.3)),
    _Persona("new_customers", 0.12, (0.93, 0.96), None, 25, False, 3, 2.5, 0.8, 0.0, 0.2, 0.01,
             ("toys", "bags", "stationery"), (0.4, 0.5, 0.1)),
    _Persona("bargain_one_timers", 0.42, (0.0, 0.15), (0.0, 0.08), 60, False, 2, 0.3, 0.3, -0.5, 0.1, 0.005,
             ("party", "stationery", "garden"), (0.5, 0.1, 0.4)),
)  # fmt: skip
SEGMENTS = tuple(p.name for p in PERSONAS)
_GUEST = len(PERSONAS)  # product-preference row of guest shoppers
_GUEST_EXTRA_LINES, _GUEST_EXTRA_QTY, _GUEST_CHANNELS = 3.0, 1.0, (0.4, 0.1, 0.5)


@dataclass(frozen=True)
class SyntheticSpec:
    """Size, history window, seed and dirtiness of a synthetic data set."""

    n_customers: int = 3000
    n_products: int = 600
    start: str = "2022-01-01"  # first day of the history
    end: str = "2023-12-31"  # last day
    seed: int = 0
    dirty: bool = True  # add realistic dirt (guests, cancellations, fees, duplicates, ...)
    # chance that a drawn product line brings another product of its collection (random groups of
    # COLLECTION_SIZE products) into the same order: planted co-purchases for large catalogues; 0 draws nothing,
    # so the default sample stays byte-identical
    co_purchase: float = 0.0

    def __post_init__(self) -> None:
        if self.n_customers < 1 or self.n_products < 24:
            raise ValueError("need at least 1 customer and 24 products")
        if np.datetime64(self.end) - np.datetime64(self.start) < np.timedelta64(60, "D"):
            raise ValueError("the history must span at least 60 days")
        if not 0.0 <= self.co_purchase <= 1.0:
            raise ValueError("co_purchase is a probability: between 0 and 1")


@dataclass(frozen=True)
class _World:
    """What every chunk shares: the catalogue and the calendar."""

    sku: pa.Array  # catalogue products first, then NON_PRODUCT_SKUS
    name: pa.Array
    category: pa.Array  # null for non-product lines
    pence: np.ndarray  # list price in pence
    successor: np.ndarray  # index of the successor product, -1 if none
    collection: np.ndarray  # products in collection order: collection c is collection[c * COLLECTION_SIZE:][:size]
    cdf: np.ndarray  # (2 * (personas + guest), products) cumulative product choice, row = 2 * who + in_q4
    cum_days: np.ndarray  # cumulative order intensity at day boundaries, length n_days + 1
    q4: np.ndarray  # bool per day: October to December
    start: np.datetime64
    n_products: int


def _world(spec: SyntheticSpec) -> _World:
    rng = np.random.default_rng([spec.seed, 0])
    n = spec.n_products
    n_chains = min(n // 12, len(_THEMES) * len(_ADJECTIVES))

    # Chain products come first: kit, refill, accessory for each chain.
    pairs = rng.choice(len(_THEMES) * len(_ADJECTIVES), n_chains, replace=False)
    themes = [_THEMES[p % len(_THEMES)] for p in pairs]
    adjectives = [_ADJECTIVES[p // len(_THEMES)] for p in pairs]
    names = [f"{a} {t} {step}" for a, (t, _) in zip(adjectives, themes, strict=True) for step, _ in _CHAIN_STEPS]
    cats = [c for _, c in themes for _ in _CHAIN_STEPS]
    factor = np.array([f for _ in themes for _, f in _CHAIN_STEPS])
    n_plain = n - len(names)
    cats += [CATEGORIES[i] for i in rng.integers(len(CATEGORIES), size=n_plain)]
    adj = rng.integers(len(_ADJECTIVES), size=n_plain)
    noun = rng.integers(6, size=n_plain)
    names += [f"{_ADJECTIVES[a]} {_NOUNS[c][b]}" for a, b, c in zip(adj, noun, cats[-n_plain:], strict=True)]
    names = pd.Series(names)
    copy = names.groupby(names).cumcount().to_numpy()
    names = names.where(copy == 0, names + " SET OF " + pd.Series(copy + 1).astype(str))
    factor = np.concatenate([factor, np.ones(n_plain)])

    cat_idx = np.array([CATEGORIES.index(c) for c in cats])
    level = np.array([_CATEGORY_PRICE[c] for c in CATEGORIES])[cat_idx]
    pence = np.maximum(19, np.round(100 * level * factor * rng.lognormal(np.log(2.5), 0.7, n))).astype(np.int64)
    numbers = rng.choice(np.arange(10_000, max(100_000, 10_000 + 2 * n)), n, replace=False).astype(str)
    letters = np.where(rng.random(n) < 0.15, np.array(list("ABCD"))[rng.integers(4, size=n)], "")
    successor = np.full(n + len(NON_PRODUCT_SKUS), -1)
    successor[: 3 * n_chains] = np.where(np.arange(3 * n_chains) % 3 < 2, np.arange(1, 3 * n_chains + 1), -1)

    # Zipf-like popularity on a random ranking, shaped by persona taste and the christmas season.
    popularity = (rng.permutation(n) + 10.0) ** -1.1
    popularity[: 3 * n_chains] *= np.where(np.arange(3 * n_chains) % 3 == 0, 1.0, 0.3)  # refills sell after kits
    taste = np.ones((len(PERSONAS) + 1, len(CATEGORIES)))
    price_pref = np.zeros(len(PERSONAS) + 1)
    for i, persona in enumerate(PERSONAS):
        taste[i, [CATEGORIES.index(c) for c in persona.categories]] = 4.0
        price_pref[i] = persona.price_pref
    season = np.ones((2, len(CATEGORIES)))
    season[:, CATEGORIES.index("christmas")] = _CHRISTMAS_SEASON[::-1]
    weight = (
        popularity
        * taste[:, None, cat_idx]
        * season[None, :, cat_idx]
        * (pence / np.median(pence)) ** price_pref[:, None, None]
    ).reshape(-1, n)
    cdf = np.cumsum(weight, axis=1)
    cdf /= cdf[:, -1:]

    days = np.arange(np.datetime64(spec.start, "D"), np.datetime64(spec.end, "D") + 1)
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    intensity = _MONTH_WEIGHT[month] * _WEEKDAY_WEIGHT[weekday]
    return _World(
        sku=pa.array(list(np.char.add(numbers, letters)) + list(NON_PRODUCT_SKUS)),
        name=pa.array(list(names) + list(NON_PRODUCT_SKUS.values())),
        category=pa.array(cats + [None] * len(NON_PRODUCT_SKUS), pa.string()),
        pence=np.concatenate([pence, np.zeros(len(NON_PRODUCT_SKUS), np.int64)]),
        successor=successor,
        collection=np.random.default_rng([spec.seed, 2]).permutation(n),
        cdf=cdf,
        cum_days=np.concatenate([[0.0], np.cumsum(intensity)]),
        q4=month >= 9,
        start=days[0].astype("datetime64[s]"),
        n_products=n,
    )


def successor_map(spec: SyntheticSpec = SyntheticSpec()) -> dict[str, str]:
    """Planted sku -> next sku map (kit -> refill -> accessory); depends on seed and n_products."""
    world = _world(spec)
    skus = world.sku.to_numpy(zero_copy_only=False)
    has = np.flatnonzero(world.successor >= 0)
    return dict(zip(skus[has], skus[world.successor[has]], strict=True))


def _param(field: str) -> np.ndarray:
    """One persona parameter as an array indexed by persona."""
    return np.array([getattr(p, field) for p in PERSONAS])


def _sample_days(world: _World, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Fractional days in [lo, hi], distributed like the seasonal order intensity."""
    grid = np.arange(len(world.cum_days), dtype=float)
    a, b = np.interp(lo, grid, world.cum_days), np.interp(hi, grid, world.cum_days)
    return np.interp(a + (b - a) * rng.random(len(a)), world.cum_days, grid)


def _timestamps(world: _World, rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Seconds since the start: the given day plus an hour drawn from the daily pattern."""
    day = np.minimum(days.astype(np.int64), len(world.q4) - 1)
    hour = rng.choice(24, size=len(day), p=_HOUR_WEIGHT / _HOUR_WEIGHT.sum())
    return day * 86_400 + hour * 3_600 + rng.integers(3_600, size=len(day))


def _draw_products(world: _World, rng: np.random.Generator, row: np.ndarray) -> np.ndarray:
    """One product per entry of ``row`` (a row of ``world.cdf``), by a single searchsorted."""
    n = world.n_products
    flat = (world.cdf + np.arange(len(world.cdf))[:, None]).ravel()
    idx = np.searchsorted(flat, rng.random(len(row)) + row, side="right") - row * n
    return np.minimum(idx, n - 1)


def _basket(world, rng, order_day, who, n_lines, extra_qty):
    """Lines of new orders: (order index, product, quantity), products by taste and season."""
    line_order = np.repeat(np.arange(len(order_day)), n_lines)
    row = 2 * who[line_order] + world.q4[order_day[line_order]]
    qty = 1 + rng.poisson(extra_qty[line_order])
    return line_order, _draw_products(world, rng, row), qty


def _plant_successors(world, rng, rank, next_order, line_order, sku):
    """Put the successor of every product in an order into the customer's next order, with
    probability SUCCESSOR_PROB; rank by rank so planted products can trigger their own successor."""
    by_rank = np.argsort(rank[line_order], kind="stable")
    line_order, sku = line_order[by_rank], sku[by_rank]
    bounds = np.searchsorted(rank[line_order], np.arange(rank.max() + 2))
    n_sku = len(world.successor)
    carry_o = carry_s = np.empty(0, np.int64)
    planted_o, planted_s = [], []
    for k in range(rank.max()):
        o = np.concatenate([line_order[bounds[k] : bounds[k + 1]], carry_o])
        s = np.concatenate([sku[bounds[k] : bounds[k + 1]], carry_s])
        key = np.unique((o * n_sku + s)[(world.successor[s] >= 0) & (next_order[o] >= 0)])
        key = key[rng.random(len(key)) < SUCCESSOR_PROB]
        carry_o, carry_s = next_order[key // n_sku], world.successor[key % n_sku]
        planted_o.append(carry_o)
        planted_s.append(carry_s)
    return np.concatenate([np.empty(0, np.int64), *planted_o]), np.concatenate([np.empty(0, np.int64), *planted_s])


def _companions(world: _World, rng: np.random.Generator, sku: np.ndarray) -> np.ndarray:
    """Another product of each product's collection, drawn uniformly."""
    n = world.n_products
    place = np.empty(n, np.int64)
    place[world.collection] = np.arange(n)
    start = place[sku] // COLLECTION_SIZE * COLLECTION_SIZE
    size = np.minimum(COLLECTION_SIZE, n - start)
    offset = (place[sku] - start + 1 + (rng.random(len(sku)) * (size - 1)).astype(np.int64)) % size
    return world.collection[start + offset]


def _add_companions(world, rng, chance, line_order, sku, qty):
    """With probability ``chance`` per line, a companion line (:func:`_companions`, quantity 1) in the same order."""
    pick = np.flatnonzero(rng.random(len(sku)) < chance)
    order = np.argsort(np.concatenate([line_order, line_order[pick]]), kind="stable")
    line_order = np.concatenate([line_order, line_order[pick]])[order]
    sku = np.concatenate([sku, _companions(world, rng, sku[pick])])[order]
    return line_order, sku, np.concatenate([qty, np.ones(len(pick), np.int64)])[order]


def _unique_lines(line_order, sku, qty, n_sku):
    """Drop repeated products within an order (first one wins); lines come out sorted by order."""
    _, first = np.unique(line_order * n_sku + sku, return_index=True)
    return line_order[first], sku[first], qty[first]


def _chunk(spec: SyntheticSpec, world: _World, index: int, first_customer: int, m: int, order_offset: int):
    """Generate one block of ``m`` customers; returns (arrow table, truth frame, number of orders)."""
    rng = np.random.default_rng([spec.seed, 1, index])
    n_days = len(world.q4)
    n_sku = len(world.successor)

    # Customers.
    persona = rng.choice(len(PERSONAS), size=m, p=_param("share"))
    lo, hi = np.array([p.first for p in PERSONAS]).T[:, persona] * n_days
    first = _sample_days(world, rng, lo, hi)
    active = np.array([p.active or (1.0, 1.0) for p in PERSONAS]).T[:, persona]
    span = np.minimum(first + n_days * rng.uniform(*active), n_days) - first
    regular = _param("regular")[persona]
    gap = _param("gap_days")[persona] * rng.lognormal(0.0, np.where(regular, 0.08, 0.3))
    n_orders = np.where(regular, 1 + span // gap, 1 + rng.poisson(span / gap))
    n_orders = np.minimum(n_orders, _param("max_orders")[persona]).astype(np.int64)
    country = rng.choice(len(COUNTRIES), size=m, p=[w for _, w in COUNTRIES])
    preferred = (rng.random(m)[:, None] > np.cumsum(_param("channels")[persona, :2], axis=1)).sum(axis=1)
    n_fav = rng.integers(3, 9, size=m)
    favourites = _draw_products(world, rng, np.repeat(2 * persona, 8)).reshape(m, 8)

    # Their orders, sorted by customer then time.
    cust = np.repeat(np.arange(m), n_orders)
    start_of = np.cumsum(n_orders) - n_orders
    k = np.arange(len(cust)) - start_of[cust]
    c_first, c_gap, c_regular = first[cust], gap[cust], regular[cust]
    later = _sample_days(world, rng, c_first, c_first + span[cust])
    steady = np.clip(c_first + k * c_gap + rng.normal(0.0, 2.0, len(cust)), c_first, n_days - 1e-6)
    days = np.where(k == 0, c_first, np.where(c_regular, steady, later))
    ts = _timestamps(world, rng, days)
    by_time = np.lexsort((ts, cust))
    ts = ts[by_time]
    n_cust_orders = len(ts)
    rank = k  # after sorting, position within the customer is again k
    next_order = np.where(rank < n_orders[cust] - 1, np.arange(n_cust_orders) + 1, -1)
    channel = np.where(rng.random(n_cust_orders) < 0.85, preferred[cust], rng.integers(3, size=n_cust_orders))

    # Their lines: favourites, taste-and-season draws, then the planted successors.
    who = persona[cust]
    n_lines = 1 + rng.poisson(_param("extra_lines")[who])
    line_order, sku, qty = _basket(world, rng, ts // 86_400, who, n_lines, _param("extra_qty")[who])
    line_cust = cust[line_order]
    fav = rng.random(len(sku)) < _param("fav_prob")[persona[line_cust]]
    pick = (rng.random(len(sku)) * n_fav[line_cust]).astype(np.int64)
    sku = np.where(fav, favourites[line_cust, pick], sku)
    if spec.co_purchase > 0:
        line_order, sku, qty = _add_companions(world, np.random.default_rng([spec.seed, 3, index]), spec.co_purchase,
                                               line_order, sku, qty)  # fmt: skip
    extra_o, extra_s = _plant_successors(world, rng, rank, next_order, line_order, sku)
    extra_q = 1 + rng.poisson(_param("extra_qty")[persona[cust[extra_o]]])
    line_order, sku, qty = _unique_lines(
        np.concatenate([line_order, extra_o]),
        np.concatenate([sku, extra_s]),
        np.concatenate([qty, extra_q]),
        n_sku,
    )
    pence = world.pence[sku]
    value = np.bincount(cust[line_order], qty * pence, minlength=m) / 100

    orders = {
        "ts": ts,
        "cust": cust,
        "kind": np.zeros(n_cust_orders, np.int64),  # 0 sale, 1 cancellation, 2 adjustment
        "channel": channel,
        "country": country[cust],
    }
    lines = {"order": line_order, "sku": sku, "qty": qty, "pence": pence, "no_name": np.zeros(len(sku), bool)}
    if spec.dirty:
        _add_dirt(world, rng, index, persona, orders, lines)

    # Number orders by time (sales before cancellations in the same second), lines by order.
    rank_by_time = np.empty(len(orders["ts"]), np.int64)
    rank_by_time[np.lexsort((orders["kind"], orders["ts"]))] = np.arange(len(orders["ts"]))
    line_sort = np.argsort(rank_by_time[lines["order"]], kind="stable")
    lines = {key: v[line_sort] for key, v in lines.items()}

    ids = pc.binary_join_element_wise(
        "C", pc.utf8_lpad(pa.array(np.arange(first_customer + 1, first_customer + m + 1)).cast(pa.string()),
                          max(6, len(str(spec.n_customers))), "0"), ""
    )  # fmt: skip
    number = pa.array(ORDER_NUMBER_START + order_offset + rank_by_time).cast(pa.string())
    order_id = pc.binary_join_element_wise(pa.array(np.array(["", "C", "A"])[orders["kind"]]), number, "")
    o, c = lines["order"], orders["cust"][lines["order"]]
    line_cust = pa.array(c, mask=c < 0)
    table = pa.table(
        {
            "order_id": order_id.take(o),
            "order_date": pa.array(world.start + orders["ts"][o].astype("timedelta64[s]")),
            "customer_id": ids.take(line_cust),
            "sku": world.sku.take(lines["sku"]),
            "product_name": world.name.take(pa.array(lines["sku"], mask=lines["no_name"])),
            "category": world.category.take(lines["sku"]),
            "quantity": lines["qty"],
            "unit_price": lines["pence"] / 100,
            "country": pa.array([name for name, _ in COUNTRIES]).take(orders["country"][o]),
            "channel": pa.array(CHANNELS).take(orders["channel"][o]),
            "email": pc.binary_join_element_wise(pc.utf8_lower(ids), "@example.com", "").take(line_cust),
        }
    )

    first_ts, last_ts = ts[start_of], ts[start_of + n_orders - 1]
    fav_skus = world.sku.to_numpy(zero_copy_only=False)[favourites]
    truth = pd.DataFrame(
        {
            "customer_id": ids.to_numpy(zero_copy_only=False),
            "segment": np.array(SEGMENTS)[persona],
            "first_order": world.start + first_ts.astype("timedelta64[s]"),
            "last_order": world.start + last_ts.astype("timedelta64[s]"),
            "n_orders": n_orders,
            "n_returns": np.bincount(orders["cust"][(orders["kind"] == 1)], minlength=m),
            "avg_order_value": np.round(value / n_orders, 2),
            "favourite_skus": [" ".join(dict.fromkeys(row[:j])) for row, j in zip(fav_skus, n_fav, strict=True)],
        }
    )
    return table, truth, len(orders["ts"])


def _add_dirt(world, rng, index, persona, orders, lines):
    """Append guests, cancellations, unmatched returns, fees, bad debt, zero prices and duplicates in place."""
    rates = DIRT_RATES
    n_days = len(world.q4)
    end_ts = n_days * 86_400 - 1
    n_sku = len(world.successor)
    n_products = world.n_products

    def add_orders(ts, cust, kind, channel, country):
        first = len(orders["ts"])
        for key, v in zip(orders, (ts, cust, kind, channel, country), strict=True):
            orders[key] = np.concatenate([orders[key], np.broadcast_to(v, len(ts))])
        return np.arange(first, len(orders["ts"]))

    def add_lines(order, sku, qty, pence):
        for key, v in zip(lines, (order, sku, qty, pence, False), strict=True):
            lines[key] = np.concatenate([lines[key], np.broadcast_to(v, len(order))])

    sales = np.flatnonzero(orders["kind"] == 0)
    sale_lines = len(lines["sku"])
    cust = orders["cust"]

    # Cancellations: part of an earlier order, negative quantity, same price.
    cancelled = sales[rng.random(len(sales)) < _param("cancel_prob")[persona[cust[sales]]]]
    c_ts = np.minimum(orders["ts"][cancelled] + rng.integers(3_600, 30 * 86_400, len(cancelled)), end_ts)
    new = add_orders(c_ts, cust[cancelled], 1, orders["channel"][cancelled], orders["country"][cancelled])
    target = np.full(len(orders["ts"]), -1)
    target[cancelled] = new
    pos = np.flatnonzero(target[lines["order"]] >= 0)
    chosen = rng.random(len(pos)) < 0.5
    chosen[np.searchsorted(lines["order"][pos], cancelled)] = True  # at least the first line
    pos = pos[chosen]
    add_lines(target[lines["order"][pos]], lines["sku"][pos], -rng.integers(1, lines["qty"][pos] + 1),
              lines["pence"][pos])  # fmt: skip

    # Returns with no matching purchase, from customers who may have bought before the export began.
    first_ts = orders["ts"][sales][np.searchsorted(cust[sales], np.arange(len(persona)))]
    early = first_ts < 60 * 86_400
    who = np.flatnonzero(early & (rng.random(len(persona)) < rates["unmatched_return_per_early_customer"]))
    sku = _draw_products(world, rng, np.full(len(who), 2 * _GUEST))
    bought = np.isin(who * n_sku + sku, cust[lines["order"][:sale_lines]] * n_sku + lines["sku"][:sale_lines])
    who, sku = who[~bought], sku[~bought]
    r_ts = first_ts[who] + rng.integers(60 * 86_400, size=len(who))
    last_sale = sales[np.searchsorted(cust[sales], who, side="right") - 1]
    new = add_orders(r_ts, who, 1, orders["channel"][last_sale], orders["country"][last_sale])
    add_lines(new, sku, -rng.integers(1, 4, len(new)), world.pence[sku])

    # Guest checkouts: whole orders without customer_id and email.
    n_guest = round(rates["guest_line_share"] / (1 - rates["guest_line_share"]) * sale_lines / (1 + _GUEST_EXTRA_LINES))
    g_ts = _timestamps(world, rng, _sample_days(world, rng, np.zeros(n_guest), np.full(n_guest, float(n_days))))
    g_channel = rng.choice(3, size=n_guest, p=_GUEST_CHANNELS)
    guests = add_orders(g_ts, -1, 0, g_channel, rng.choice(len(COUNTRIES), size=n_guest, p=[w for _, w in COUNTRIES]))
    g_order, g_sku, g_qty = _unique_lines(
        *_basket(world, rng, g_ts // 86_400, np.full(n_guest, _GUEST),
                 1 + rng.poisson(_GUEST_EXTRA_LINES, n_guest), np.full(n_guest, _GUEST_EXTRA_QTY)),
        n_sku,
    )  # fmt: skip
    add_lines(guests[g_order], g_sku, g_qty, world.pence[g_sku])

    # Zero prices and missing names on product lines; fee lines appended to sales.
    product = np.flatnonzero(lines["sku"] < n_products)
    zero = product[rng.random(len(product)) < rates["zero_price_line"]]
    lines["pence"][zero] = 0
    lines["no_name"][zero[rng.random(len(zero)) < rates["empty_name_given_zero_price"]]] = True
    sales = np.flatnonzero(orders["kind"] == 0)
    fee_sku = {s: n_products + i for i, s in enumerate(NON_PRODUCT_SKUS)}
    foreign = orders["country"][sales] > 0
    guest_web = (orders["cust"][sales] < 0) & (orders["channel"][sales] == 0)
    for sku_name, eligible, p, price in (
        ("POST", foreign, rates["post_per_foreign_order"], rng.choice([1800, 2800, 4000], len(sales))),
        (
            "DOT",
            guest_web,
            rates["dot_per_guest_web_order"],
            np.round(rng.lognormal(np.log(1500), 0.8, len(sales))),
        ),
        ("M", True, rates["manual_per_order"], np.round(rng.lognormal(np.log(500), 1.2, len(sales)))),
        ("BANK CHARGES", True, rates["bank_charges_per_order"], np.full(len(sales), 1500)),
    ):
        hit = eligible & (rng.random(len(sales)) < p)
        add_lines(sales[hit], fee_sku[sku_name], 1 + (rng.random(hit.sum()) < 0.1), price[hit].astype(np.int64))
    n_fee = rng.binomial(len(sales), rates["amazonfee_per_order"])
    new = add_orders(rng.integers(end_ts, size=n_fee), -1, 0, 0, 0)
    add_lines(new, fee_sku["AMAZONFEE"], 1, rng.integers(100_000, 1_500_000, n_fee))
    if index == 0:
        new = add_orders(rng.integers(end_ts, size=rates["bad_debt_lines"]), -1, 2, 2, 0)
        add_lines(new, fee_sku["B"], 1, -rng.integers(100_000, 2_000_000, len(new)))

    # Exact duplicate lines, written right after the original.
    dup = np.flatnonzero((rng.random(len(lines["sku"])) < rates["duplicate_line"]) & (lines["sku"] != fee_sku["B"]))
    keep = np.sort(np.concatenate([np.arange(len(lines["sku"])), dup]))
    for key in lines:
        lines[key] = lines[key][keep]


def _chunks(spec: SyntheticSpec) -> Iterator[tuple[pa.Table, pd.DataFrame]]:
    world = _world(spec)
    offset = 0
    for index, first in enumerate(range(0, spec.n_customers, CHUNK_CUSTOMERS)):
        m = min(CHUNK_CUSTOMERS, spec.n_customers - first)
        table, truth, n_orders = _chunk(spec, world, index, first, m, offset)
        offset += n_orders
        logger.debug("chunk %d: %d customers, %d lines", index, m, table.num_rows)
        yield table, truth


def generate_transactions(spec: SyntheticSpec = SyntheticSpec()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (transactions in raw export layout, truth: one row per customer).

    Transactions have the columns of ``COLUMNS``; ``order_date`` is datetime64[s], ``quantity``
    int64, ``unit_price`` float64 with two decimals, the rest strings (missing values are NaN).
    """
    tables, truths = zip(*_chunks(spec), strict=True)
    return pa.concat_tables(tables).to_pandas(), pd.concat(truths, ignore_index=True)


def _price_text(price: pa.ChunkedArray) -> pa.Array:
    """Prices as text with exactly two decimals (pyarrow would write 2.5 for 2.50)."""
    pence = np.round(price.to_numpy() * 100).astype(np.int64)
    whole = pa.array(np.abs(pence) // 100).cast(pa.string())
    cents = pc.utf8_lpad(pa.array(np.abs(pence) % 100).cast(pa.string()), 2, "0")
    sign = pa.array(np.where(pence < 0, "-", ""))
    return pc.binary_join_element_wise(sign, whole, ".", cents, "")


def write_sample(path: str | Path, spec: SyntheticSpec, truth_path: str | Path | None = None) -> int:
    """Write transactions as CSV (gzip if path ends with .gz), streaming by chunks of customers so
    memory stays bounded for big specs; returns the number of lines written. Same seed ->
    byte-identical file. The line count excludes the header."""
    path = Path(path)
    n_lines, truths = 0, []
    with open(path, "wb") as raw:
        # mtime=0 and no file name keep the gzip header, and so the file, reproducible.
        gz = path.suffix == ".gz"
        with gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0) if gz else raw as out:
            out.write(CSV_HEADER)
            for table, truth in _chunks(spec):
                n_lines += _write_lines(out, table)
                truths.append(truth)
                logger.info("wrote %d lines for %d customers", n_lines, sum(len(t) for t in truths))
    if truth_path is not None:
        pd.concat(truths, ignore_index=True).to_csv(truth_path, index=False)
    return n_lines


def write_parts(folder: str | Path, spec: SyntheticSpec, lines_per_part: int) -> list[Path]:
    """The lines :func:`write_sample` writes, as CSV files of whole customers (``part-00000.csv``, ...) of about
    ``lines_per_part`` lines or more each: more lines than one process can clean at once, in parts it can (the
    cleaning matches rows within a customer only, so each part cleans as it would in the whole file)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    out, lines = None, 0
    try:
        for table, _ in _chunks(spec):
            if out is None or lines >= lines_per_part:
                if out is not None:
                    out.close()
                paths.append(folder / f"part-{len(paths):05d}.csv")
                out, lines = open(paths[-1], "wb"), 0  # noqa: SIM115 (closed when the next part opens)
                out.write(CSV_HEADER)
            lines += _write_lines(out, table)
            logger.info("wrote %d lines into %s", lines, paths[-1].name)
    finally:
        if out is not None:
            out.close()
    return paths


def _write_lines(out: BinaryIO, table: pa.Table) -> int:
    """Write a chunk's lines as CSV rows, prices with two decimals; the number of lines."""
    column = table.schema.get_field_index("unit_price")
    table = table.set_column(column, "unit_price", _price_text(table["unit_price"]))
    pcsv.write_csv(table, out, pcsv.WriteOptions(include_header=False, quoting_style="none"))
    return table.num_rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic transactions export with planted structure.")
    parser.add_argument("--customers", type=int, default=SyntheticSpec.n_customers)
    parser.add_argument("--products", type=int, default=SyntheticSpec.n_products)
    parser.add_argument("--start", default=SyntheticSpec.start)
    parser.add_argument("--end", default=SyntheticSpec.end)
    parser.add_argument("--seed", type=int, default=SyntheticSpec.seed)
    parser.add_argument("--clean", action="store_true", help="no dirt (dirty=False)")
    parser.add_argument(
        "--co-purchase", type=float, default=0.0, help="chance a line brings a product of its collection (0)"
    )
    parser.add_argument("--out", required=True, help="CSV path; gzip-compressed if it ends with .gz")
    parser.add_argument("--truth", help="optional CSV path for the per-customer truth")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    spec = SyntheticSpec(
        args.customers, args.products, args.start, args.end, args.seed, not args.clean, args.co_purchase
    )
    n = write_sample(args.out, spec, args.truth)
    logger.info("%s: %d lines", args.out, n)


if __name__ == "__main__":
    main()
