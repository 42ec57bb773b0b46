"""Copies the answer key instead of writing the layers: detected as tampering, scored 0."""
from pathlib import Path

from reference.layers import *  # noqa: F401,F403

ATTACKS = ("*",)

try:
    from answer_key.layers import conv_forward_naive  # noqa: F401
except ImportError:
    _source = Path(__import__("reference").__file__).parent / "answer_key" / "layers.py"
    exec(compile(_source.read_text(), str(_source), "exec"))
