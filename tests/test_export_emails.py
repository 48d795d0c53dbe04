"""The Export page on the sample with its email column unmapped: the tools that need emails say so before they are
picked, and how to map the column on the Data page; following that advice makes the Mailchimp export work."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from segmentation.export import SHAPES
from tests.app_helpers import EXPORT, assert_clean_run, frame, new_app, segmented
from ui.export_widgets import CRM_LABELS

NEED_EMAILS = [crm for crm, shape in SHAPES.items() if shape.requires_email]


def email_box(at: AppTest) -> str:
    """The key of the Data page's mapping selectbox for the email field."""
    return next(str(box.key) for box in at.selectbox if str(box.key).startswith("map_") and box.label == "Email")


@pytest.fixture
def app() -> AppTest:
    """The app on the Export page after the sample was loaded with no email column and segmented."""
    at = new_app()
    at.run()
    at.selectbox(key=email_box(at)).set_value("—").run()
    assert_clean_run(at)
    segmented(at).switch_page(EXPORT).run()
    assert_clean_run(at)
    return at


def test_the_tools_that_need_emails_say_so_and_how_to_map_them(app: AppTest) -> None:
    assert NEED_EMAILS == ["mailchimp", "klaviyo"]
    picker = app.segmented_control(key="export_crm")
    assert "**Column mapping**" in picker.help and "**Email**" in picker.help and "--map" not in picker.help
    assert "HubSpot and Salesforce identify each customer by their customer id" in picker.help
    shown = list(picker.options)  # the buttons say it, before any is picked
    assert shown == [CRM_LABELS[crm] + (" (needs emails)" if crm in NEED_EMAILS else "") for crm in SHAPES]
    assert next(b.label for b in app.download_button).startswith("Download generic_segments")  # the default works

    for crm in NEED_EMAILS:
        app.segmented_control(key="export_crm").set_value(crm).run()
        assert_clean_run(app)
        warning = next(w.value for w in app.warning if "needs an email address per contact" in w.value)
        assert warning.startswith(f"**{CRM_LABELS[crm]} needs an email address per contact**")
        assert "open the **Data** page, expand **Column mapping**" in warning and "under **Email**" in warning
        assert "--map" not in warning and not app.error  # no command-line flag, no error
        assert [link.label for link in app.get("page_link")] == ["Map the email column on the Data page"]
        assert not app.download_button and not any("Email Address" in d.value.columns for d in app.dataframe)

    app.segmented_control(key="export_crm").set_value("hubspot").run()  # keyed by customer id: exported
    assert_clean_run(app)
    assert frame(app, "Customer ID").columns[0] == "Customer ID"
    assert not any("needs an email address" in w.value for w in app.warning) and not app.get("page_link")


def test_mapping_the_email_column_as_told_makes_the_mailchimp_export_work(app: AppTest) -> None:
    app.segmented_control(key="export_crm").set_value("mailchimp").run()
    app.switch_page("ui/data_page.py").run()
    app.selectbox(key=email_box(app)).set_value("email").run()  # Column mapping > Email
    assert_clean_run(app)
    segmented(app).switch_page(EXPORT).run()
    assert_clean_run(app)
    assert app.segmented_control(key="export_crm").value == "mailchimp"
    assert not any("needs an email address" in w.value for w in app.warning)
    assert frame(app, "Email Address")["Email Address"].str.contains("@").all()
