"""Streamlit pieces shared by the lesson pages (language, image input, errors, page frame, cache).

Together with ``app.py`` and ``pages/`` this is the only code that imports streamlit. Importing
it changes nothing process-wide: the server's settings (``ui.runtime``) are applied by app.py.
"""
