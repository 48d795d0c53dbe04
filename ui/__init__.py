"""Streamlit pages and shared widgets of the dashboard; `app.py` lists the pages."""
