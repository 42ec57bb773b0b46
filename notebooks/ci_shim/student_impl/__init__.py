"""``student_impl`` for running the notebook in CI: the answer key under the student's name."""
