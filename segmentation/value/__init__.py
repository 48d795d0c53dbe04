"""Customer value and churn: BG/NBD + Gamma-Gamma lifetime value, its backtest, and churn models.

The names load lazily (see :mod:`segmentation.lazy`): pymc, pytensor, scikit-learn and LightGBM are imported by
the functions that fit, so ``import segmentation.value`` stays light.
"""

from segmentation.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "summary": ("orders", "period_totals", "rfm_summary"),
        "clv": ("BetaGeo", "CustomerValue", "GammaGamma", "customer_value"),
        "backtest": ("BacktestResult", "backtest", "calibration_table", "verdict"),
        "churn": (
            "ChurnClassifier",
            "ChurnData",
            "churn_data",
            "churn_evaluation_table",
            "churn_labels",
            "churn_risk",
            "churn_metrics",
            "churn_scores",
            "top_decile_lift",
        ),
        "plotting": (
            "calibration_chart",
            "churn_push_chart",
            "clv_histogram",
            "p_alive_heatmap",
            "segment_risk_chart",
            "value_risk_scatter",
        ),
        "scoring": ("VALUE_COLUMNS", "segment_risk", "valuable_at_risk", "value_table", "with_churn"),
        "reasons": ("churn_contributions", "churn_reasons"),
        "simulate": ("simulate_bgnbd", "simulate_spend", "simulate_transactions"),
    },
)
