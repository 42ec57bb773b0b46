"""convgrader: the grading machinery of the convolutional-network assignment.

It holds the pytest plugin that loads the implementation under test (``--impl``),
the single way tests compare arrays (:mod:`convgrader.judging.compare`), the list of
graded parts (:mod:`convgrader.assignment`) and the ``grade`` command
(``python -m convgrader grade``).
"""

__version__ = "0.1.0"
