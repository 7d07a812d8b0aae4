"""pytest setup shared by every test folder; the helpers themselves are in tests/helpers.py."""

from tests import helpers  # noqa: F401 - importing it makes AppTest route runs through app.py
