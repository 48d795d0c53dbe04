"""Costs and results of the value models on Online Retail: pymc-marketing's import time, the first BG/NBD fit
with a cold pytensor compile cache, warm MAP fits, the lifetime value backtest and the churn table.

    python bench/bench_value.py            # writes bench/out/value.json and prints it

Each timing runs in a fresh interpreter (``python -c``) so imports and compiles are not shared between them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ONLINE_RETAIL, OUT

PARQUET = Path(tempfile.gettempdir()) / "online_retail_clean.parquet"
"""The clean transactions, cached outside the repository (the data set is never copied into it)."""
FIT = """
import time, pyarrow.parquet as pq
from segmentation.value import rfm_summary, BetaGeo, GammaGamma
summary = rfm_summary(pq.read_table({path!r}), "2011-06-01")
t0 = time.perf_counter(); bg = BetaGeo().fit(summary); t1 = time.perf_counter(); GammaGamma().fit(summary)
print(t1 - t0, time.perf_counter() - t1, len(summary))
"""


def _python(code: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return time.perf_counter() - start, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def import_seconds() -> float:
    """Cumulative import time of pymc_marketing.clv from ``python -X importtime`` (microseconds in the log)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pymc_marketing.clv"], capture_output=True, text=True
    )
    line = next(x for x in done.stderr.splitlines() if x.rstrip().endswith("| pymc_marketing.clv"))
    return int(line.split("|")[1]) / 1e6


def fits(cold: bool) -> dict[str, float]:
    env = dict(os.environ)
    if cold:
        env["PYTENSOR_FLAGS"] = f"compiledir={tempfile.mkdtemp(prefix='pytensor-')}"
    total, line = _python(FIT.format(path=str(PARQUET)), env)
    bgnbd, gamma_gamma, customers = map(float, line.split())
    return {"process_s": total, "bgnbd_fit_s": bgnbd, "gamma_gamma_fit_s": gamma_gamma, "customers": customers}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    if not PARQUET.exists():
        import pyarrow.parquet as pq

        from segmentation.pipeline import load_transactions

        pq.write_table(load_transactions(ONLINE_RETAIL).transactions, PARQUET)
    import pyarrow.parquet as pq

    from segmentation.value import backtest, churn_evaluation_table

    result: dict[str, object] = {"import_pymc_marketing_clv_s": import_seconds()}
    result["first_fit_cold_compile"] = fits(cold=True)
    result["fit_warm_cache"] = fits(cold=False)
    transactions = pq.read_table(PARQUET)
    start = time.perf_counter()
    run = backtest(transactions, "2011-06-01", holdout_days=180)
    result["backtest_s"] = time.perf_counter() - start
    result["backtest_params"] = run.params
    result["backtest_metrics"] = run.metrics.to_dict("records")
    result["calibration"] = run.calibration.reset_index().to_dict("records")
    result["churn"] = {}
    for cutoff in ("2011-07-01", "2011-08-01", "2011-09-01"):
        start = time.perf_counter()
        table = churn_evaluation_table(transactions, cutoff, 90)
        result["churn"][cutoff] = {"seconds": time.perf_counter() - start, "table": table.to_dict("records")}
    (OUT / "value.json").write_text(json.dumps(result, indent=1, default=float))
    print(json.dumps(result, indent=1, default=float))


if __name__ == "__main__":
    main()
