"""The trainer page's parts: controls, live training, comparison, inspection, drawing."""
