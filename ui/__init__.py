"""Streamlit pieces shared by the lesson pages (language, image input, errors, page frame).

Together with ``app.py`` and ``pages/`` this is the only code that imports streamlit.
Importing the package applies the classroom server's process-wide settings (``ui.runtime``).
"""

from ui.runtime import limit_blas_threads

limit_blas_threads()
