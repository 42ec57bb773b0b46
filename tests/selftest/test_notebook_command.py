"""Self-test: the notebook opens the way the student README says.

The README (``README.ru.md``, shipped as the student release's
README) names an install command and a command that opens the notebook. The
first test reads both from the README and checks that the extra it installs
exists in pyproject.toml and brings the program the second one runs. The
second test runs that program's ``--version`` from this environment: it is
skipped only where the extra is not installed, and ``tox -e notebook`` (which
CI runs) installs it and sets ``CONVGRADER_EXPECT_JUPYTER=1``, so there it
runs and cannot skip.
"""

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from convgrader.paths import PROJECT

STUDENT_README = PROJECT / "README.ru.md"
NOTEBOOK = "notebooks/convolutional_networks.ipynb"
#: `jupyter SUBCOMMAND` -> (the distribution and module that provide it, the first major version that
#: opens this notebook format the way the README describes).
PROVIDERS = {"lab": ("jupyterlab", 4), "notebook": ("notebook", 7)}


def documented_commands():
    """The README's install extras (a set) and its command opening the notebook (a list of words)."""
    text = STUDENT_README.read_text(encoding="utf-8")
    opens = re.findall(rf"^(jupyter \S+ (?:--\S+ )*{re.escape(NOTEBOOK)})", text, flags=re.MULTILINE)
    installs = re.findall(r'pip install -e "\.\[([a-z,]+)\]"', text)
    assert opens, f"{STUDENT_README.name} shows no `jupyter ... {NOTEBOOK}` command"
    assert len(set(opens)) == 1, f"the README opens the notebook in more than one way: {sorted(set(opens))}"
    with_notebook = [set(extras.split(",")) for extras in installs if set(extras.split(",")) - {"test"}]
    assert with_notebook, "the README shows no install command with an extra for the notebook"
    return with_notebook[0], opens[0].split()


def test_jupyterlab_opens_at_the_assignments_root():
    """Given a notebook's path alone, Jupyter serves the notebook's folder: student_impl/ is then out of reach."""
    _, command = documented_commands()
    assert "--ServerApp.root_dir=." in command, command


def extras():
    return tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]


def _requirement_names(requirements, table, seen=()):
    """Distribution names an extra installs, following ``convnet-grader[other]`` into the other extra."""
    names = set()
    for requirement in requirements:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()
        inner = re.search(r"\[([a-z,]+)\]", requirement)
        if name == "convnet-grader" and inner:
            for extra in inner.group(1).split(","):
                if extra not in seen:
                    names |= _requirement_names(table[extra], table, (*seen, extra))
        else:
            names.add(name)
    return names


def test_documented_install_brings_the_documented_command():
    installed_extras, command = documented_commands()
    table = extras()
    assert installed_extras <= set(table), f"the README installs extras pyproject.toml lacks: {installed_extras}"
    subcommand = command[1]
    assert subcommand in PROVIDERS, f"`jupyter {subcommand}` is not a command this test knows"
    brought = set().union(*(_requirement_names(table[e], table, (e,)) for e in installed_extras))
    assert PROVIDERS[subcommand][0] in brought, f"no installed extra brings {PROVIDERS[subcommand][0]}"
    # The kernel and what the notebook's cells import come along too.
    assert {"ipykernel", "matplotlib", "scikit-learn", "pillow"} <= brought


#: Set by ``tox -e notebook``: there the extra is installed, so a missing program fails instead of skipping.
EXPECTED_HERE = os.environ.get("CONVGRADER_EXPECT_JUPYTER") == "1"


@pytest.mark.skipif(importlib.util.find_spec(PROVIDERS[documented_commands()[1][1]][0]) is None
                    and not EXPECTED_HERE,
                    reason="the notebook's extra is not installed here (tox -e notebook installs it)")
def test_documented_command_answers():
    _, command = documented_commands()
    scripts = Path(sys.executable).parent
    # `jupyter lab` runs the executable `jupyter-lab` found on PATH: the one the install put beside python.
    assert (scripts / f"jupyter-{command[1]}").exists() or (scripts / f"jupyter-{command[1]}.exe").exists()
    env = dict(os.environ, PATH=os.pathsep.join([str(scripts), os.environ.get("PATH", "")]))
    run = subprocess.run([*command[:2], "--version"], env=env, cwd=PROJECT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.fullmatch(r"\d+\.\d+\S*", run.stdout.strip().splitlines()[-1]), run.stdout
    assert int(run.stdout.strip().splitlines()[-1].split(".")[0]) >= PROVIDERS[command[1]][1]
