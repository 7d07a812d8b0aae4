"""The preprocessing page's controls."""
