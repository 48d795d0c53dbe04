"""The names of the segmentation methods, without importing the segmenters (for ``segment cluster --method``).

:data:`segmentation.clustering.model.METHODS` maps each of them to its class; a test keeps the two in step.
"""

METHOD_NAMES: tuple[str, ...] = ("kmeans", "hierarchical", "hdbscan", "gmm", "autoencoder")
METHOD_LABELS: dict[str, str] = {
    "kmeans": "K-Means",
    "hierarchical": "Hierarchical",
    "hdbscan": "HDBSCAN",
    "gmm": "Gaussian mixture",
    "autoencoder": "Autoencoder",
}
"""Each method's name as an analyst reads it."""
METHOD_NOTES: dict[str, str] = {
    "kmeans": "Splits customers into k groups around k centres: fast, and the usual first choice.",
    "hierarchical": "Joins the most similar customers step by step into a tree, then cuts the tree into k groups.",
    "hdbscan": "Finds dense groups on its own (no k) and leaves customers who fit none as *Unassigned*.",
    "gmm": "Fits k overlapping groups and gives each customer a probability of belonging to each one.",
    "autoencoder": "A small neural network first compresses the features; K-Means then groups the compressed customers.",
}
"""What each method does, in one sentence."""
