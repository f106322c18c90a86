"""PLACEHOLDER: being written."""

batch_norm, layer_norm = None, None
