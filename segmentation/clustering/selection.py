"""Choosing the number of segments from measured criteria, and how stable a segmentation is."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture

from segmentation.clustering.base import NOISE, Segmenter
from segmentation.clustering.kmeans import KMeansSegmenter


@dataclass
class KSelection:
    table: pd.DataFrame
    """One row per k: inertia, silhouette, calinski_harabasz, davies_bouldin, bic."""
    recommended: int
    reason: str


def cluster_metrics(X: np.ndarray, labels: np.ndarray, sample_size: int = 5_000, random_state: int = 0) -> dict:
    """Silhouette (on a sample for large n), Calinski-Harabasz and Davies-Bouldin; noise rows left out."""
    assigned = labels != NOISE
    X, labels = X[assigned], labels[assigned]
    if len(np.unique(labels)) < 2:
        return {"silhouette": np.nan, "calinski_harabasz": np.nan, "davies_bouldin": np.nan}
    return {
        "silhouette": float(
            silhouette_score(X, labels, sample_size=min(sample_size, len(X)), random_state=random_state)
        ),
        "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
        "davies_bouldin": float(davies_bouldin_score(X, labels)),
    }


def choose_k(
    X: np.ndarray,
    ks: range = range(2, 11),
    random_state: int = 0,
    sample_size: int = 5_000,
    max_rows: int | None = 100_000,
) -> KSelection:
    """Score K-Means++ for each k and recommend the k most criteria agree on.

    Votes: the elbow of inertia (largest distance below the chord), highest silhouette, highest
    Calinski-Harabasz, lowest Davies-Bouldin, lowest BIC of a diagonal Gaussian mixture. Ties go to silhouette.
    Above ``max_rows`` customers (``None``: never) the scores come from a uniform sample of that many: it is the
    default k of ``segment cluster``, and nine K-Means and nine mixture fits on every row of a million
    customers would take minutes.
    """
    if max_rows is not None and len(X) > max_rows:
        X = X[np.sort(np.random.default_rng(random_state).choice(len(X), max_rows, replace=False))]
    ks = range(ks.start, min(ks.stop, len(X)), ks.step)
    rows = []
    for k in ks:
        model = KMeansSegmenter(k, random_state=random_state).fit(X)
        bic = GaussianMixture(k, covariance_type="diag", random_state=random_state, reg_covar=1e-4).fit(X).bic(X)
        rows.append({"k": k, "inertia": model.inertia_, **cluster_metrics(X, model.labels_, sample_size), "bic": bic})
    table = pd.DataFrame(rows)
    votes = {
        "elbow": _elbow(table["k"].to_numpy(), table["inertia"].to_numpy()),
        "silhouette": int(table.loc[table["silhouette"].idxmax(), "k"]),
        "calinski_harabasz": int(table.loc[table["calinski_harabasz"].idxmax(), "k"]),
        "davies_bouldin": int(table.loc[table["davies_bouldin"].idxmin(), "k"]),
        "bic": int(table.loc[table["bic"].idxmin(), "k"]),
    }
    counts = Counter(votes.values())
    top = max(counts.values())
    tied = [k for k, n in counts.items() if n == top]
    recommended = votes["silhouette"] if votes["silhouette"] in tied else min(tied)
    agree = [name for name, k in votes.items() if k == recommended]
    others = ", ".join(f"{name} {k}" for name, k in votes.items() if k != recommended)
    reason = f"k={recommended}: chosen by {', '.join(agree)}" + (f" (others: {others})" if others else "")
    return KSelection(table, recommended, reason)


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
