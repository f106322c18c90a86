"""``minidl.onnx``: models to and from ONNX files, with the ``onnx`` package (the ``onnx`` extra).

* :func:`export` traces a model on an example input (every op the forward pass runs is recorded, in eval
  mode, without gradients) and writes the graph with ``onnx.helper``: parameters and buffers become
  initializers under their ``state_dict`` names, the batch axis is symbolic when ``dynamic_batch``. An op
  without an ONNX form is refused with an error naming the module that ran it.
* :func:`load` reads an ONNX model into an :class:`OnnxModule`, an ``nn.Module`` that runs the graph with
  minidl's ops: its float initializers are ``Parameter`` s (batch-norm statistics are buffers), so the model
  can be evaluated, fine-tuned and saved like any other. An operator it does not implement is refused with
  an error naming the operator and the node.

:data:`SUPPORTED_OPERATORS` lists the operators :func:`load` runs.
"""

from __future__ import annotations

from .export import export
from .load import SUPPORTED_OPERATORS, OnnxModule, load

__all__ = ["export", "load", "OnnxModule", "SUPPORTED_OPERATORS"]
