"""Classroom plumbing: teacher presets, the link codec, the training scheduler (no Streamlit)."""
