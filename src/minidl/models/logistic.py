"""``LogisticRegression``: multinomial logistic (softmax) regression, the linear baseline of the zoo."""

from __future__ import annotations

from collections import OrderedDict

from .. import nn

__all__ = ["LogisticRegression"]


class LogisticRegression(nn.Sequential):
    r"""flatten – linear ``input_dim → num_classes``: class scores :math:`s = W x + b`.

    Trained with the cross-entropy of :math:`\operatorname{softmax}(s)`, this is multinomial logistic
    regression: :math:`P(y = k \mid x) = e^{s_k} / \sum_j e^{s_j}`; with two classes it is the classic
    logistic regression, :math:`P(y = 1 \mid x) = \sigma(s_1 - s_0)`. The layer is named ``fc``
    (state_dict keys ``fc.weight`` (num_classes, input_dim) and ``fc.bias``).
    """

    def __init__(self, input_dim: int = 784, num_classes: int = 10) -> None:
        super().__init__(OrderedDict(flatten=nn.Flatten(), fc=nn.Linear(input_dim, num_classes)))
