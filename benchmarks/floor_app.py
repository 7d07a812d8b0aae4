"""The framework's floor for benchmarks/bench_open.py: a Streamlit page with a title and one
Plotly chart, served exactly like the app. Opening it costs what every page costs before any
lesson content (the JavaScript bundle, the websocket, Plotly's chunk, one chart).

The same page is served twice, as the app serves its pages: at ``/`` (like the home page) and
at ``/chart`` (like a lesson at ``/convolution``). A page at a path costs a little more in any
Streamlit app: the browser first looks for the server under that path
(``/chart/_stcore/health``, a 404) and only then at ``/``, a retry that waits ~0.1 s before
the websocket opens.
"""

import plotly.graph_objects as go
import streamlit as st


def floor() -> None:
    st.title("floor")
    st.plotly_chart(go.Figure(go.Scatter(y=[1, 3, 2, 4])), key="floor_chart")


# no navigation menu: the floor page shows only its title and chart, wherever it is served
st.navigation([st.Page(floor, title="floor", default=True),
               st.Page(floor, title="floor at a path", url_path="chart")],
              position="hidden").run()
