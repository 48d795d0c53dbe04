"""Honest hyperparameter tuning: optuna on a validation split cut before the test cutoff.

:func:`tune` sees only the orders before ``cutoff``: it trains on those before ``cutoff - validation_days``
and validates on [cutoff - validation_days, cutoff) under the three protocols of :mod:`recommenders.evaluate`.
Optuna's TPE sampler maximises the mean of the three validation NDCGs; each protocol then takes the trial best
on its own validation NDCG. :func:`tuned_evaluation` refits those parameters on everything before the cutoff
and tests once, so nothing is chosen on the test period.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
from sklearn.base import clone

from recommenders.base import Recommender
from recommenders.data import WEIGHTINGS, temporal_split
from recommenders.evaluate import EvaluationSplit, evaluate, evaluate_runs, part_progress, summarise
from segmentation.errors import ConfigError
from segmentation.progress import Progress, no_progress

PROTOCOLS = {"all items": "ndcg@10", "cross-sell": "cross-sell ndcg@10", "next-basket": "next-basket ndcg@10"}
"""Each protocol and the validation metric its parameters are chosen by."""


def _recent(trial: Any) -> dict[str, Any]:
    return {"window_days": trial.suggest_float("window_days", 7.0, 180.0, log=True)}


def _buy_again(trial: Any) -> dict[str, Any]:
    return {"half_life_days": trial.suggest_float("half_life_days", 7.0, 720.0, log=True)}


def _item_knn(trial: Any) -> dict[str, Any]:
    return {
        "neighbours": trial.suggest_int("neighbours", 5, 500, log=True),
        "weighting": trial.suggest_categorical("weighting", WEIGHTINGS),
    }


def _als(trial: Any) -> dict[str, Any]:
    return {
        "factors": trial.suggest_categorical("factors", (16, 32, 64, 128)),
        "regularization": trial.suggest_float("regularization", 1e-3, 10.0, log=True),
        "iterations": trial.suggest_int("iterations", 5, 30),
        "alpha": trial.suggest_float("alpha", 1.0, 100.0, log=True),
        "weighting": trial.suggest_categorical("weighting", WEIGHTINGS),
    }


def _bpr(trial: Any) -> dict[str, Any]:
    return {
        "factors": trial.suggest_categorical("factors", (16, 32, 64, 128)),
        "learning_rate": trial.suggest_float("learning_rate", 1e-3, 0.1, log=True),
        "regularization": trial.suggest_float("regularization", 1e-4, 0.1, log=True),
        "iterations": trial.suggest_int("iterations", 20, 200, log=True),
    }


def _tifu(trial: Any) -> dict[str, Any]:
    return {
        "group_size": trial.suggest_int("group_size", 1, 12),
        "within_decay": trial.suggest_float("within_decay", 0.3, 1.0),
        "group_decay": trial.suggest_float("group_decay", 0.3, 1.0),
        "neighbours": trial.suggest_int("neighbours", 5, 500, log=True),
        "alpha": trial.suggest_float("alpha", 0.0, 1.0),
    }


def _sequence(trial: Any) -> dict[str, Any]:
    return {
        "dim": trial.suggest_categorical("dim", (32, 64, 128)),
        "epochs": trial.suggest_int("epochs", 5, 30),
        "learning_rate": trial.suggest_float("learning_rate", 3e-4, 5e-3, log=True),
        "explore_head_weight": trial.suggest_categorical("explore_head_weight", (None, 1.0)),
        "recent_half_life": _recent_half_life(trial),
    }


def _recent_half_life(trial: Any) -> float | None:
    return trial.suggest_categorical("recent_half_life", (None, 30.0, 60.0, 180.0))


def _l2(trial: Any) -> float:
    return trial.suggest_float("l2", 10.0, 3000.0, log=True)


def _recent_days(trial: Any) -> float | None:
    return trial.suggest_categorical("recent_days", (None, 14.0, 30.0, 60.0, 90.0))


def _ease(trial: Any) -> dict[str, Any]:
    return {
        "l2": _l2(trial),
        "weighting": trial.suggest_categorical("weighting", WEIGHTINGS),
        "recent_days": _recent_days(trial),
    }


def _repeat_explore(trial: Any) -> dict[str, Any]:
    # TIFU-KNN's search, EASE's, the weights and the network's recency weighting: every trial reuses one of the two
    # or so networks trained (see recommenders.mixture._reused)
    return {
        "recent_half_life": trial.suggest_categorical("recent_half_life", (None, 60.0)),
        **_tifu(trial),
        "l2": _l2(trial),
        "recent_days": _recent_days(trial),
        **{w: trial.suggest_float(w, 0.0, 1.0) for w in ("repeat_weight", "explore_weight", "sequence_weight")},
    }


SEARCH_SPACES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "RecentPopularityRecommender": _recent,
    "BuyAgainRecommender": _buy_again,
    "ItemKNNRecommender": _item_knn,
    "ALSRecommender": _als,
    "BPRRecommender": _bpr,
    "TIFUKNNRecommender": _tifu,
    "EASERecommender": _ease,
    "SequenceRecommender": _sequence,
    "RepeatExploreRecommender": _repeat_explore,
}
"""Model class name -> the few parameters that matter for it, as optuna suggestions (popularity has none)."""


def search_space(model: Recommender) -> Callable[[Any], dict[str, Any]] | None:
    """The search space of ``model``'s class (or of the nearest base class that has one), None if none."""
    return next((SEARCH_SPACES[c.__name__] for c in type(model).__mro__ if c.__name__ in SEARCH_SPACES), None)


def tunable(model: Recommender) -> bool:
    """Whether :func:`tune` has parameters to search for ``model``."""
    return search_space(model) is not None


@dataclass(frozen=True)
class Tuning:
    """What :func:`tune` found: the chosen parameters per protocol, every trial and the seconds it took."""

    best: dict[str, dict[str, Any]]
    """Protocol -> the parameters of the trial best on its validation metric (:data:`PROTOCOLS`)."""
    validation: dict[str, float]
    """Protocol -> that trial's validation metric."""
    trials: pd.DataFrame
    """One row per trial: its parameters and the validation metric of every protocol."""
    seconds: float


def validation_split(
    transactions: pa.Table | pd.DataFrame, cutoff: str | pd.Timestamp, validation_days: float
) -> EvaluationSplit:
    """Train before ``cutoff - validation_days``, validate on [cutoff - validation_days, cutoff): orders from
    ``cutoff`` on are dropped first, whatever ``transactions`` holds."""
    before, _ = temporal_split(transactions, cutoff)
    return EvaluationSplit.from_transactions(before, pd.Timestamp(cutoff) - pd.Timedelta(days=validation_days))


def tune(
    model: Recommender, split: EvaluationSplit, n_trials: int = 20, seed: int = 0, progress: Progress = no_progress
) -> Tuning:
    """Search ``model``'s key parameters (:data:`SEARCH_SPACES`) with optuna, ``n_trials`` trials of the TPE
    sampler seeded by ``seed``, on ``split``: a :func:`validation_split`, never the test split you report.
    ``progress`` hears every trial's fit."""
    import optuna

    name = type(model).__name__
    space = search_space(model)
    if space is None:
        raise ConfigError(f"there is nothing to tune in {name}")
    start = time.perf_counter()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))

    def objective(trial: optuna.Trial) -> float:
        params = space(trial)
        label = f"trial {trial.number + 1} of {n_trials}"
        step = functools.partial(part_progress, progress, trial.number / n_trials, 1 / n_trials, label)
        result = evaluate(clone(model).set_params(**params), split, progress=step)
        for metric in PROTOCOLS.values():
            trial.set_user_attr(metric, result[metric])
        return sum(result[m] for m in PROTOCOLS.values()) / len(PROTOCOLS)

    study.optimize(objective, n_trials=n_trials)
    winners = {p: max(study.trials, key=lambda t, m=m: t.user_attrs[m]) for p, m in PROTOCOLS.items()}
    progress(1.0, f"{name} tuned")
    return Tuning(
        best={p: t.params for p, t in winners.items()},
        validation={p: t.user_attrs[PROTOCOLS[p]] for p, t in winners.items()},
        trials=pd.DataFrame([{**t.params, **t.user_attrs} for t in study.trials]),
        seconds=time.perf_counter() - start,
    )


def tuned_evaluation(
    transactions: pa.Table | pd.DataFrame,
    cutoff: str | pd.Timestamp,
    models: Mapping[str, Recommender],
    n_trials: int | Mapping[str, int] = 20,
    validation_days: float = 90.0,
    seeds: Iterable[int] = (0,),
    progress: Progress = no_progress,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tune every model on the :func:`validation_split` before ``cutoff`` (:func:`tune`), refit each protocol's
    parameters on all the orders before ``cutoff`` and test once on the orders from it on.

    Returns the results table (as :func:`recommenders.evaluate.evaluate_models`, each protocol's columns from
    its own tuned parameters, plus ``tune_s``) and the chosen parameters: one row per (model, protocol) with
    its validation NDCG@10. Models without parameters to tune run with their defaults. ``n_trials``: one
    budget for every model, or one per model name (0 or missing: defaults).
    """
    validation = validation_split(transactions, cutoff, validation_days)
    split = EvaluationSplit.from_transactions(transactions, cutoff)
    seeds = tuple(seeds)
    rows, chosen = [], []
    for i, (name, model) in enumerate(models.items()):
        part = functools.partial(part_progress, progress, i / len(models), 1 / len(models), name)
        trials = n_trials if isinstance(n_trials, int) else n_trials.get(name, 0)
        if not tunable(model) or trials < 1:
            rows.append(summarise(evaluate_runs(split, {name: model}, seeds=seeds, progress=part)).assign(tune_s=0.0))
            continue
        tuning = tune(model, validation, trials, progress=functools.partial(part_progress, part, 0.0, 0.8, "tuning"))
        params = {protocol: tuple(sorted(p.items())) for protocol, p in tuning.best.items()}
        testing = functools.partial(part_progress, part, 0.8, 0.2, "test")
        tested = {
            p: summarise(
                evaluate_runs(split, {name: clone(model).set_params(**dict(p))}, seeds=seeds, progress=testing)
            )
            for p in dict.fromkeys(params.values())
        }
        rows.append(_combine({protocol: tested[p] for protocol, p in params.items()}).assign(tune_s=tuning.seconds))
        chosen += [
            {"model": name, "protocol": protocol, "params": dict(p), "validation ndcg@10": tuning.validation[protocol]}
            for protocol, p in params.items()
        ]
    progress(1.0, "tuned and evaluated")
    return pd.concat(rows), pd.DataFrame(chosen)


def _combine(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One results row whose columns of each protocol come from that protocol's table (``train_s`` and ``runs``
    from the all-items one)."""
    base = tables["all items"].copy()
    for protocol in ("cross-sell", "next-basket"):
        columns = [c for c in base.columns if c.startswith(f"{protocol} ")]
        base[columns] = tables[protocol][columns].to_numpy()
    return base
