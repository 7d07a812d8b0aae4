"""cnnviz: a small NumPy/SciPy CNN engine with hand-written backprop, for teaching."""

__version__ = "0.1.0"
