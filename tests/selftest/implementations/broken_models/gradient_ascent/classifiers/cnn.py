"""A model that returns the negated gradients, so every update increases the loss.

The student wrote the softmax derivative as (one-hot - probabilities) instead of
(probabilities - one-hot); the sign then runs through every gradient.
"""
from answer_key.classifiers.cnn import ThreeLayerConvNet as _AnswerKey


class ThreeLayerConvNet(_AnswerKey):
    def loss(self, X, y=None):
        result = super().loss(X, y)
        if y is None:
            return result
        loss, grads = result
        return loss, {name: -gradient for name, gradient in grads.items()}
