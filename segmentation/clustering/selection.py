"""Choosing the number of segments from measured criteria, and how stable a segmentation is."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    pairwise_distances,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture

from segmentation.clustering.base import NOISE, Segmenter
from segmentation.clustering.kmeans import KMeansSegmenter

USEFUL_K: tuple[int, int] = (4, 8)
"""The numbers of segments a marketing team can act on: two or three groups are too coarse, ten too many to run."""
MIN_SHARE = 0.03
"""The smallest segment a recommended k may have, as a share of customers (the synthetic sample plants personas
of 4 % and 5 %: a higher bound would hide them)."""


@dataclass
class KSelection:
    table: pd.DataFrame
    """One row per k: inertia, silhouette, calinski_harabasz, davies_bouldin, bic, smallest_share."""
    recommended: int
    reason: str
    """Why, in words: the criteria that chose it, the range searched, what the others said, the runner-up."""
    runner_up: int | None = None
    """The next best k of the range (``None`` when only one k was eligible)."""
    votes: dict[str, int] = field(default_factory=dict)
    """Criterion -> the k it prefers within the range."""


def distance_sample(X: np.ndarray, sample_size: int = 5_000, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a uniform sample (every row when there are fewer) and their pairwise distances.

    Silhouette needs all pairwise distances of its sample; computed once, they serve every labelling of the same
    rows (the k search on Online Retail: 4.8 -> 2.3 s of silhouette).
    """
    if len(X) <= sample_size:
        index = np.arange(len(X))
    else:
        index = np.sort(np.random.default_rng(random_state).choice(len(X), sample_size, replace=False))
    return index, pairwise_distances(X[index])


def cluster_metrics(
    X: np.ndarray,
    labels: np.ndarray,
    sample_size: int = 5_000,
    random_state: int = 0,
    sample: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """Silhouette (on a sample for large n), Calinski-Harabasz and Davies-Bouldin; noise rows left out.

    ``sample``: a :func:`distance_sample` of ``X`` to take the silhouette's rows and distances from.
    """
    index, distances = sample or distance_sample(X, sample_size, random_state)
    assigned = labels != NOISE
    keep = assigned[index]
    if len(np.unique(labels[assigned])) < 2 or len(np.unique(labels[index][keep])) < 2:
        return {"silhouette": np.nan, "calinski_harabasz": np.nan, "davies_bouldin": np.nan}
    if not keep.all():  # a copy of the distances, only where noise must be left out
        distances = distances[np.ix_(keep, keep)]
    return {
        "silhouette": float(silhouette_score(distances, labels[index][keep], metric="precomputed")),
        "calinski_harabasz": float(calinski_harabasz_score(X[assigned], labels[assigned])),
        "davies_bouldin": float(davies_bouldin_score(X[assigned], labels[assigned])),
    }


def choose_k(
    X: np.ndarray,
    ks: range = range(2, 11),
    random_state: int = 0,
    sample_size: int = 5_000,
    max_rows: int | None = 100_000,
    useful: tuple[int, int] = USEFUL_K,
    min_share: float = MIN_SHARE,
) -> KSelection:
    """Score K-Means++ for each k and recommend the k most criteria agree on within the useful range.

    Every k of ``ks`` is scored (the table shows them all), but only the k within ``useful`` whose smallest
    segment holds at least ``min_share`` of the customers are eligible: on real data silhouette often peaks at 2,
    which splits customers cleanly but gives marketing nothing to act on. Among the eligible k, each criterion
    votes: the elbow of inertia (largest distance below the chord), highest silhouette, highest Calinski-Harabasz,
    lowest Davies-Bouldin, lowest BIC of a diagonal Gaussian mixture. The k with most votes wins, ties and the
    runner-up go by silhouette. When no k passes a bound, that bound is dropped (and the reason says so).
    Above ``max_rows`` customers (``None``: never) the scores come from a uniform sample of that many: it is the
    default k of ``segment cluster``, and nine K-Means and nine mixture fits on every row of a million
    customers would take minutes.
    """
    if max_rows is not None and len(X) > max_rows:
        X = X[np.sort(np.random.default_rng(random_state).choice(len(X), max_rows, replace=False))]
    ks = range(ks.start, min(ks.stop, len(X)), ks.step)
    sample = distance_sample(X, sample_size, random_state)
    rows = []
    for k in ks:
        model = KMeansSegmenter(k, random_state=random_state).fit(X)
        bic = GaussianMixture(k, covariance_type="diag", random_state=random_state, reg_covar=1e-4).fit(X).bic(X)
        smallest = np.bincount(model.labels_, minlength=k).min() / len(X)
        metrics = cluster_metrics(X, model.labels_, sample=sample)
        rows.append({"k": k, "inertia": model.inertia_, **metrics, "bic": bic, "smallest_share": smallest})
    table = pd.DataFrame(rows)
    eligible, scope = _eligible(table, useful, min_share)
    votes = {
        "elbow": _elbow(eligible["k"].to_numpy(), eligible["inertia"].to_numpy()),
        "silhouette": int(eligible.loc[eligible["silhouette"].idxmax(), "k"]),
        "calinski_harabasz": int(eligible.loc[eligible["calinski_harabasz"].idxmax(), "k"]),
        "davies_bouldin": int(eligible.loc[eligible["davies_bouldin"].idxmin(), "k"]),
        "bic": int(eligible.loc[eligible["bic"].idxmin(), "k"]),
    }
    counts = Counter(votes.values())
    ranked = eligible.assign(votes=eligible["k"].map(counts).fillna(0)).sort_values(
        ["votes", "silhouette"], ascending=False
    )
    recommended = int(ranked["k"].iloc[0])
    runner_up = int(ranked["k"].iloc[1]) if len(ranked) > 1 else None
    return KSelection(
        table, recommended, _reason(table, votes, recommended, runner_up, scope, min_share), runner_up, votes
    )


def _eligible(table: pd.DataFrame, useful: tuple[int, int], min_share: float) -> tuple[pd.DataFrame, str]:
    """The rows a recommendation may come from, and those bounds in words (a bound no k meets is dropped)."""
    in_range = table["k"].between(*useful)
    large = table["smallest_share"] >= min_share
    share = f"every segment holds at least {min_share:.0%} of customers"
    for mask, scope in (
        (in_range & large, f"among {useful[0]}-{useful[1]} segments where {share}"),
        (in_range, f"among {useful[0]}-{useful[1]} segments (none where {share})"),
        (large, f"among the k where {share} (none of {useful[0]}-{useful[1]} could be scored)"),
    ):
        if mask.any():
            return table[mask], scope
    return table, "among every k scored"


def _reason(
    table: pd.DataFrame, votes: dict[str, int], k: int, runner_up: int | None, scope: str, min_share: float
) -> str:
    """``k=K: chosen by ...`` in words, with the other votes, the runner-up and the best silhouette outside."""
    agree = [name for name, v in votes.items() if v == k]
    others = ", ".join(f"{name} {v}" for name, v in votes.items() if v != k)
    reason = f"k={k}: chosen by {', '.join(agree) or 'the best silhouette'} {scope}"
    reason += f" (others: {others})" if others else ""
    if runner_up is not None:
        backers = [name for name, v in votes.items() if v == runner_up]
        reason += f"; runner-up k={runner_up} ({', '.join(backers) or 'next best silhouette'})"
    best = table.loc[table["silhouette"].idxmax()]
    if int(best["k"]) not in votes.values():
        if best["smallest_share"] < min_share:
            why = f"a segment of {best['smallest_share']:.1%} of customers"
        else:
            why = "too few segments to act on" if best["k"] < k else "more segments than a team can run"
        reason += f"; k={int(best['k'])} separates customers more cleanly (silhouette) but gives {why}"
    return reason


def _elbow(ks: np.ndarray, inertia: np.ndarray) -> int:
    if len(ks) < 3:
        return int(ks[0])
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    y = (inertia - inertia[-1]) / (inertia[0] - inertia[-1] or 1.0)
    return int(ks[np.argmax((1 - x) - y)])


def bootstrap_stability(
    make: Callable[[], Segmenter], X: np.ndarray, n_rounds: int = 5, fraction: float = 0.8, random_state: int = 0
) -> tuple[float, float]:
    """Mean and spread of the adjusted Rand index between segmentations fitted on resamples.

    Each round fits on two random subsets; agreement is measured on the customers both contain.
    """
    rng = np.random.default_rng(random_state)
    scores = []
    for _ in range(n_rounds):
        a, b = (np.sort(rng.choice(len(X), int(fraction * len(X)), replace=False)) for _ in range(2))
        common = np.intersect1d(a, b)
        la = make().fit(X[a]).predict(X[common])
        lb = make().fit(X[b]).predict(X[common])
        scores.append(adjusted_rand_score(la, lb))
    return float(np.mean(scores)), float(np.std(scores))
