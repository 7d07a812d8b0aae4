"""The framework's floor for benchmarks/bench_open.py: a Streamlit page with a title and one
Plotly chart, served exactly like the app. Opening it costs what every page costs before any
lesson content (the JavaScript bundle, the websocket, Plotly's chunk, one chart)."""

import plotly.graph_objects as go
import streamlit as st

st.title("floor")
st.plotly_chart(go.Figure(go.Scatter(y=[1, 3, 2, 4])), key="floor_chart")
