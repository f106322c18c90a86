"""PLACEHOLDER: being written."""

relu, leaky_relu, sigmoid, tanh, softmax, log_softmax = None, None, None, None, None, None
