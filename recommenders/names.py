"""Names and one-line descriptions of the standard recommenders, without importing any of them (the app's model
picker, the export's caption and the evaluation table read them)."""

from __future__ import annotations

MODEL_LABELS: dict[str, str] = {
    "buy_again": "Buy again",
    "itemknn": "Item kNN",
    "als": "ALS",
    "bpr": "BPR",
    "ease": "EASE",
    "tifu_knn": "TIFU-KNN",
    "gru": "GRU sequence",
    "attention": "Self-attention sequence",
    "repeat_explore": "Repeat/explore mixture",
    "popularity": "Popularity",
    "recent_popularity": "Recent popularity",
}
"""Model key of :func:`recommenders.evaluate.standard_models` -> its name for people."""

MODEL_NOTES: dict[str, str] = {
    "buy_again": "each customer's own repeat purchases, recent ones first, then the most popular products",
    "itemknn": "products bought by the same customers as the customer's own products (cosine similarity)",
    "als": "matrix factorisation (alternating least squares) of who bought what",
    "bpr": "matrix factorisation trained to rank bought products above the rest (Bayesian personalised ranking)",
    "ease": "products that customers with baskets like the customer's bought, from item-to-item weights learned "
    "in closed form (EASE)",
    "tifu_knn": "each customer's own purchase frequencies, recent orders weighing most, blended with those of the "
    "most similar customers (TIFU-KNN)",
    "gru": "a recurrent network that reads each customer's orders in time order and predicts the next basket",
    "attention": "a self-attention network (SASRec-style) over each customer's orders that predicts the next basket",
    "repeat_explore": "each customer's own recent purchase frequencies (TIFU-KNN), EASE's products new to them and "
    "the GRU's next-basket scores, mixed with tuned weights",
    "popularity": "the products most customers bought: the same list for everyone",
    "recent_popularity": "the products in the most orders of the last 30 days: the same list for everyone",
}
"""Model key -> what it recommends, in one phrase."""

QUICK_MODELS: tuple[str, ...] = (
    "popularity",
    "recent_popularity",
    "buy_again",
    "itemknn",
    "als",
    "bpr",
    "ease",
    "tifu_knn",
)
"""The models of the app's quick evaluation: every model but the three with a sequence network (the GRU, the
self-attention encoder and the repeat/explore mixture), which train for minutes on Online Retail where these fit
in seconds; ``segment recommend-eval`` compares them all, over several seeds."""

BEST_FOR_NEW_PRODUCTS = "ease"
"""The model that ranked best when the list must hold products new to the customer: cross-sell NDCG@10 0.122
(tuned) against ALS 0.114, item-kNN 0.110 and TIFU-KNN 0.085 on Online Retail, while fitting in seconds
(docs/recommenders.md)."""
BEST_FOR_ALL_PRODUCTS = "tifu_knn"
"""The model offered first when repeat purchases count: all-items NDCG@10 0.387 (tuned) and next basket 0.286,
while fitting in about a second. The repeat/explore mixture ranks better (0.397 and 0.293 in one tuned run) but
trains the GRU for about 30 s on Online Retail: it stays a choice, not the default (docs/recommenders.md)."""


def default_model(new_products_only: bool) -> str:
    """The model to offer first for a kind of list: the one the evaluation ranks best for it."""
    return BEST_FOR_NEW_PRODUCTS if new_products_only else BEST_FOR_ALL_PRODUCTS
