"""PLACEHOLDER: being written."""

dropout = None
