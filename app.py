"""Entry point of the customer segmentation dashboard: `streamlit run app.py`."""

import streamlit as st
from streamlit import runtime

from ui import export_widgets, uploads


def main() -> None:
    st.set_page_config(page_title="Customer segmentation", page_icon=":material/groups:", layout="wide")
    uploads.register(export_widgets.session_folder())  # this session's CRM export files go when it ends
    page = st.navigation(
        [
            st.Page("ui/data_page.py", title="Data", icon=":material/table_view:", default=True),
            st.Page("ui/customers_page.py", title="Customers", icon=":material/groups:"),
            st.Page("ui/segments_page.py", title="Segments", icon=":material/bubble_chart:"),
            st.Page("ui/explain_page.py", title="Explain", icon=":material/lightbulb:"),
            st.Page("ui/recommend_page.py", title="Recommend", icon=":material/shopping_cart:"),
            st.Page("ui/value_page.py", title="Value", icon=":material/savings:"),
            st.Page("ui/export_page.py", title="Export", icon=":material/ios_share:"),
            st.Page("ui/history_page.py", title="History", icon=":material/timeline:"),
        ]
    )
    st.title(page.title)  # the page's frame first, before its module imports libraries or computes anything
    page.run()


if runtime.exists():  # `streamlit run` or AppTest; a process that merely imports this file (a multiprocessing
    main()  # child spawned from a test process that ran the app) draws nothing
