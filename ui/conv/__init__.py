"""The convolution page's controls: editable grids and kernels, example and preset pickers."""
