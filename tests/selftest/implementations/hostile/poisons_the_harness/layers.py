"""At import, tries to change the harness for every later grading: a .pth file, compare.py, a planted .pyc."""
import site
import sys
from pathlib import Path

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ()
#: Harmless payload: a test finds it by this name and removes it if the attack got through.
POISON = "convgrader_selftest_poison"

PROJECT = Path(__import__("reference").__file__).resolve().parents[1]
COMPARE = PROJECT / "convgrader" / "judging" / "compare.py"


def _try(action):
    try:
        action()
    except OSError:
        pass


for _folder in site.getsitepackages() + [site.getusersitepackages()]:
    _try(lambda: (Path(_folder) / f"{POISON}.pth").write_text(f"# {POISON}\n"))
_try(lambda: COMPARE.write_text(COMPARE.read_text() + f"\n# {POISON}\n"))
_tag = sys.implementation.cache_tag
_try(lambda: (COMPARE.parent / "__pycache__").mkdir(exist_ok=True))
_try(lambda: (COMPARE.parent / "__pycache__" / f"compare.{_tag}.pyc").write_bytes(POISON.encode()))
