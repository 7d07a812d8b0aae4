"""The pooling page's controls: the editable map, window, stride, padding, feature maps."""
