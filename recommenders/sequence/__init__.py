"""Next-basket sequence models in torch: GRU and causal self-attention encoders over order steps."""

from recommenders.sequence.model import SequenceRecommender

__all__ = ["SequenceRecommender"]
