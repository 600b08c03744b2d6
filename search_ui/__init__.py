"""Recall's Streamlit app."""
