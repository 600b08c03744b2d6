"""The app's floor in the browser benchmark (bench/startup.py): a Streamlit page with one
question box that shows one card, so the figures beside it say what Streamlit itself costs."""

import streamlit as st

if st.text_input("question", key="q", label_visibility="collapsed"):
    title = "Time Series Prediction Using LSTM"
    st.html(f'<div class="rc-card"><div class="rc-title">{title}</div></div>')
