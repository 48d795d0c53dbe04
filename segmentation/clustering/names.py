"""The names of the segmentation methods, without importing the segmenters (for ``segment cluster --method``).

:data:`segmentation.clustering.model.METHODS` maps each of them to its class; a test keeps the two in step.
"""

METHOD_NAMES: tuple[str, ...] = ("kmeans", "hierarchical", "hdbscan", "gmm", "autoencoder")
