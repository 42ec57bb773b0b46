"""What ``reference.fast_layers`` is in a worker that grades the layer functions: names that cannot compute.

A layer function must compute its result itself (SPEC.md, "What a submission
may use"), so the worker that grades the layer functions holds no fast code at
all: at the ``namespaces`` level this file is bound read-only over
``reference/fast_layers.py`` and ``fast_ext`` (the compiled kernels) is absent
from the sandbox's file system; at the ``process`` level the worker registers
this module as ``reference.fast_layers`` before the submission runs, and no new
native code can be loaded once it runs (:mod:`convgrader.running.native_code`).
A submission may import it (``reference.layer_utils`` does); each function
says why it refuses when called. Only ``ThreeLayerConvNet``'s worker has the
real fast layers.
"""

__all__ = ["conv_forward_fast", "conv_backward_fast", "max_pool_forward_fast", "max_pool_backward_fast"]

#: The graded layer function the worker is running now, named in the refusal (set by the worker).
graded = None
#: True while the worker runs a forward only for the cache its backward's test needs (set by the worker):
#: the forward is judged in its own tests, so a fast layer called on the side then returns None, which
#: computes nothing, instead of costing the backward's tests too.
making_cache = False


class FastLayersUnavailable(RuntimeError):
    """A graded layer function called a provided fast layer, which this worker does not have.

    ``fields`` (``name``, ``provided``) let the grader say so in the student's
    language (:func:`convgrader.running.sandbox.fast_layers_refusal`).
    """

    def __init__(self, name, provided):
        super().__init__(f"{name} must compute its result itself; it called the provided {provided} (the rule: a "
                         "graded layer function may not use the fast layers; only ThreeLayerConvNet may)")
        self.fields = {"name": name, "provided": provided}


def _refuser(provided):
    def refuse(*args, **kwargs):
        if making_cache:
            return None
        raise FastLayersUnavailable(graded or "a graded layer function", provided)
    refuse.__name__ = refuse.__qualname__ = provided
    return refuse


conv_forward_fast = _refuser("conv_forward_fast")
conv_backward_fast = _refuser("conv_backward_fast")
max_pool_forward_fast = _refuser("max_pool_forward_fast")
max_pool_backward_fast = _refuser("max_pool_backward_fast")
