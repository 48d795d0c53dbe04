"""Entry point of the customer segmentation dashboard: `streamlit run app.py`."""

import streamlit as st

st.set_page_config(page_title="Customer segmentation", page_icon=":material/groups:", layout="wide")
st.navigation(
    [
        st.Page("ui/data_page.py", title="Data", icon=":material/table_view:", default=True),
        st.Page("ui/customers_page.py", title="Customers", icon=":material/groups:"),
        st.Page("ui/segments_page.py", title="Segments", icon=":material/bubble_chart:"),
    ]
).run()
