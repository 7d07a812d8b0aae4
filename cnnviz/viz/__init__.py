"""Plotly figure builders: pure functions, arrays in, figures out, one visual language.

Only this sub-package (and the UI above it) imports plotly; the numeric core never does.
"""
