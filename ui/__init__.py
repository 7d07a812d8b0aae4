"""Streamlit pieces shared by the lesson pages (language, image input, errors, page frame).

Together with ``app.py`` and ``pages/`` this is the only code that imports streamlit.
"""
