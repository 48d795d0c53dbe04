"""The names of the surrogate models, without importing LightGBM or CatBoost (for ``segment explain --model``)."""

MODELS: tuple[str, ...] = ("lightgbm", "catboost")

MODEL_LABELS: dict[str, str] = {"lightgbm": "LightGBM", "catboost": "CatBoost"}
"""Surrogate model key -> its name for people."""
