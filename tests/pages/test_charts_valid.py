"""Every chart every lesson sends is valid Plotly.

Several builders skip Plotly's validation on the server (it is most of a figure's cost and ran
on every rerun for every student); this is where it happens instead: each page is run (with the
sections that need the picture or the digits switched on) and each chart's JSON is validated.
"""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from tests.helpers import errors_of, registered_pages, run_page

STATES = {
    "pages/preprocessing.py": [{}, {"prep_source": "image", "prep_zca_source": "digits"}],
}


def colorscales(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "colorscale":
                yield value
            else:
                yield from colorscales(value)
    elif isinstance(node, list):
        for item in node:
            yield from colorscales(item)


@pytest.mark.parametrize("file", [f for f, _ in registered_pages()])
def test_every_chart_is_valid_plotly(file):
    for state in STATES.get(file, [{}]):
        at = run_page(file, "en", state=state)
        assert errors_of(at) == []
        charts = at.get("plotly_chart")
        for chart in charts:
            spec = json.loads(chart.proto.spec)
            go.Figure(spec)  # raises on any property Plotly does not know or accept
            assert spec["data"], chart.proto.id
            for scale in colorscales(spec["data"]):
                # validation turns a name such as "Phase" into colours; without it the name
                # reaches Plotly.js, which knows only a few of them and silently falls back
                assert isinstance(scale, list), (chart.proto.id, scale)
