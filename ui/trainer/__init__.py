"""The trainer page's pieces: controls, the live run, inspecting a model, comparing runs."""
