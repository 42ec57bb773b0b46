"""The answer key's layers, as the notebook imports them (``from student_impl.layers import *``)."""
from answer_key.layers import *  # noqa: F401,F403
