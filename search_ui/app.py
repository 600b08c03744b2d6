"""Recall's search app: `recall ui`, or `streamlit run search_ui/app.py` with RECALL_INDEX set."""

from search_ui.page import show

show()
