"""The Explain, Export and History pages, run headless with AppTest on the sample: surrogates and SHAP, CRM files,
saved runs and segment migration."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

import segmentation.explain
from segmentation.clustering import SegmentationModel
from tests.app_helpers import (
    EXPLAIN,
    EXPORT,
    HISTORY,
    assert_clean_run,
    chart,
    frame,
    plotly_titles,
    segmented,
)


class StrictSurrogate(segmentation.explain.SegmentSurrogate):
    """A surrogate that no model can satisfy: every fidelity is 'low'."""

    def __init__(self, model: str = "lightgbm", **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self.min_fidelity = 1.01


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The methods of every segmentation fitted from now on."""
    fitted: list[str] = []
    original = SegmentationModel.fit

    def fit(self: SegmentationModel, *args: Any, **kwargs: Any) -> SegmentationModel:
        fitted.append(self.method)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SegmentationModel, "fit", fit)
    return fitted


def rows_of(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"))))


def test_pages_without_a_segmentation_link_to_segments(app: AppTest) -> None:
    app.run()
    app.radio(key="source").set_value("Upload a file").run()  # nothing loaded, nothing segmented
    for page in (EXPLAIN, "ui/recommend_page.py", EXPORT, HISTORY):
        app.switch_page(page).run()
        assert not app.exception
        assert any("Segments page first" in i.value for i in app.info), page
        assert "Go to the Segments page" in [link.value for link in app.page_link]


def test_explain_fidelity_drivers_waterfall_and_model_switch(app: AppTest) -> None:
    segmented(app).switch_page(EXPLAIN).run()
    assert_clean_run(app)
    fidelity = frame(app, "CatBoost")
    assert list(fidelity.columns) == ["LightGBM", "CatBoost"]
    segments = [m.removeprefix("Found in ") for m in fidelity.index if m.startswith("Found in ")]
    assert len(segments) >= 2
    for model in ("LightGBM", "CatBoost"):
        assert float(fidelity.loc["Right segment", model].rstrip("%")) > 80
    drivers = [m.value for m in app.markdown if m.value.startswith("**Drivers**")]
    assert len(drivers) == len(segments)
    assert all(1 <= d.count("\n- ") <= 3 for d in drivers)  # up to 3: a feature the model barely uses is none
    assert any("according to LightGBM" in c.value for c in app.caption)
    assert {"Feature importance per segment", "How each feature pushes customers into the segment"} <= set(
        plotly_titles(app)
    )
    assert "Overall agreement (Spearman)" in [m.label for m in app.metric]

    picker = app.selectbox(key="explain_customer")
    assert picker.value is None and not any(t.startswith("Why this customer") for t in plotly_titles(app))
    customer = picker.options[len(picker.options) // 2]
    picker.set_value(customer).run()
    assert_clean_run(app)
    waterfall = chart(app, "Why this customer is in")["data"][0]
    assert waterfall["type"] == "waterfall"
    assert waterfall["measure"][0] == "absolute" and waterfall["measure"][-1] == "total"
    assert sum(waterfall["x"][:-1]) == pytest.approx(waterfall["x"][-1])  # base + pushes = the customer's score
    assert any(f"Customer **{customer}** is in" in m.value for m in app.markdown)

    app.segmented_control(key="explain_model").set_value("catboost").run()
    assert_clean_run(app)
    assert any("according to CatBoost" in c.value for c in app.caption)
    axis = chart(app, "Why this customer is in")["layout"]["xaxis"]["title"]["text"]
    assert axis.startswith("CatBoost score")


def test_low_fidelity_is_a_prominent_warning(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segmentation.explain, "SegmentSurrogate", StrictSurrogate)
    segmented(app)
    # a segmentation no other test explains, so the surrogates are trained with the strict threshold
    app.multiselect(key="seg_features").set_value(["monetary", "tenure_days"]).run()
    app.slider(key="seg_k").set_value(2).run()
    app.switch_page(EXPLAIN).run()
    assert not app.exception
    warnings = [w.value for w in app.warning]
    assert any(w.startswith("**Treat the LightGBM explanations with care:** low fidelity") for w in warnings)
    assert any(w.startswith("**Treat the CatBoost explanations with care:**") for w in warnings)
    assert list(frame(app, "CatBoost").index[:2]) == [
        "Right segment",
        "Every segment alike",
    ]  # the table is still shown


def test_export_mailchimp_preview_download_and_klaviyo_without_segments(
    app: AppTest, downloads: dict[str, bytes]
) -> None:
    segmented(app).switch_page(EXPORT).run()
    app.segmented_control(key="export_crm").set_value("mailchimp").run()
    assert_clean_run(app)
    preview = frame(app, "Email Address")
    assert preview.columns[0] == "Email Address" and 0 < len(preview) <= 10
    assert "Tags" in preview.columns
    shown = next(m.value for m in app.markdown if " in 1 file" in m.value)
    rows = int(re.match(r"\*\*([\d,]+) customers\*\*", shown)[1].replace(",", ""))
    written = rows_of(downloads["mailchimp_segments.csv"])
    assert written[0] == list(preview.columns)
    assert written[1 : len(preview) + 1] == preview.to_numpy().tolist()  # the preview is the file, as written
    assert len(written) - 1 == rows > 0
    manifest = json.loads(downloads["mailchimp_segments.manifest.json"])
    assert manifest["crm"] == "mailchimp" and manifest["rows"] == rows

    app.segmented_control(key="export_crm").set_value("klaviyo").run()
    next(m for m in app.multiselect if m.label == "Segments to export").set_value([]).run()
    assert_clean_run(app)
    assert any("Choose at least one segment to export for Klaviyo" in i.value for i in app.info)
    assert not [b for b in app.download_button if "klaviyo" in b.label]


def test_saved_run_shows_on_history_with_sankey_sizes_and_movers(
    app: AppTest, downloads: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fits: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    segmented(app)
    fitted = len(fits)
    app.switch_page(HISTORY).run()
    assert_clean_run(app)
    assert any("No run is saved" in c.value for c in app.caption)

    app.switch_page(EXPORT).run()
    app.button(key="save_run").click().run()
    assert_clean_run(app)
    assert (tmp_path / "segmentation_runs.duckdb").is_file()
    run_id = re.search(r"run \*\*(\w+)\*\*", app.success[0].value)[1]

    app.switch_page(HISTORY).run()
    assert_clean_run(app)
    assert list(frame(app, "run_id")["run_id"]) == [run_id]
    assert app.selectbox(key="history_run").value == run_id
    described = next(m.value for m in app.markdown if m.value.startswith(f"Run **{run_id}**"))
    customers = int(re.search(r"on ([\d,]+) customers", described)[1].replace(",", ""))
    assert "Spark" not in described  # saved by the app, on DuckDB
    assert frame(app, "revenue_share")["customers"].sum() == customers
    assert {"Download its assignments (CSV)", "Download its profiles (CSV)"} <= {b.label for b in app.download_button}

    sizes = chart(app, "Customers per segment over time")
    assert len(sizes["data"]) >= 2 and len(sizes["data"][0]["x"]) == 5  # month starts over the last 4 months
    sankey = chart(app, "From ")["data"][0]
    assert sankey["type"] == "sankey" and sum(sankey["link"]["value"]) > 0

    moved = next(m.value for m in app.markdown if "customers** were in" in m.value)
    count = int(re.match(r"\*\*([\d,]+) customers", moved)[1].replace(",", ""))
    assert count > 0 and "moved to" in moved
    ids = next(content for name, content in downloads.items() if name.startswith("movers_"))
    lines = rows_of(ids)
    assert lines[0][0] == "customer_id" and len(lines) - 1 == count
    assert len(fits) == fitted  # Export and History (every snapshot included) reuse the Segments page's fit
