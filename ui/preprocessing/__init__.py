"""The preprocessing page's controls and the picture it computes on."""
