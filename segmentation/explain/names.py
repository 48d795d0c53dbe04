"""The names of the surrogate models, without importing LightGBM or CatBoost (for ``segment explain --model``)."""

MODELS: tuple[str, ...] = ("lightgbm", "catboost")
