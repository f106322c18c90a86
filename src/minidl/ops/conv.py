"""PLACEHOLDER: being written."""

conv2d = None
