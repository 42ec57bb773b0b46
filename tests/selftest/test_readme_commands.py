"""Every command the READMEs and the instructor's guide show is run by a self-test, as written.

The student's commands run here, from the project's root against the skeleton,
exactly as typed. The others run where they can: the install in a fresh
virtualenv (``test_release.py``), the notebook's command after that install
(``test_notebook_command.py``), ``tox`` as CI itself (``.ci/run``). A command
added to a document without a place that runs it fails
:func:`test_every_documented_command_is_run_somewhere`.
"""

import ast
import re
import subprocess
import sys

import pytest

from convgrader.paths import PROJECT
from tests.selftest.graded_runs import outside_xdist

DOCUMENTS = ("README.md", "README.ru.md", "docs/instructors.md")
TABLE_TITLES = ("graded parts", "части задания")

#: Commands this module runs as written (against the skeleton), with the exit status each must give.
RUN_HERE = {
    "pytest -k conv_forward": 1, "pytest -k conv_backward": 1, "pytest -k max_pool": 1,
    "pytest -k spatial_batchnorm": 1, "pytest -k spatial_groupnorm": 1, "pytest -k ThreeLayerConvNet": 1,
    "pytest": 1, "pytest --benchmark-only": 0, "python -m convgrader grade": 0,
}
#: Commands run elsewhere: the self-test (file::function) or script that runs them as written.
RUN_ELSEWHERE = {
    "python -m venv .venv": "tests/selftest/test_release.py::student_env",
    "source .venv/bin/activate": "tests/selftest/test_release.py::student_env",
    'python -m pip install -e ".[test,jupyter]"': "tests/selftest/test_release.py::student_env",
    "jupyter lab --ServerApp.root_dir=. notebooks/convolutional_networks.ipynb":
        "tests/selftest/test_notebook_command.py::test_documented_command_answers",
    "python -m pip install tox": ".ci/run",
    "tox": ".ci/run",
    "python -m convgrader batch submissions/ --out graded/":
        "tests/selftest/test_batch.py::test_the_batch_command_grades_for_real",
    "python -m convgrader batch submissions/ --out graded/ --lang ru":
        "tests/selftest/test_batch.py::test_every_grading_of_a_batch_speaks_the_class_language",
    "python -m convgrader release-student --out dist/": "tests/selftest/test_readme_commands.py::test_releases",
    "python -m convgrader release-gradescope --out dist/ --lang ru":
        "tests/selftest/test_release.py::test_the_gradescope_bundle_speaks_the_language_it_was_built_with",
    "python -m convgrader similarity submissions/ --out similarity/ --against known/":
        "tests/selftest/test_similarity.py::planted",
    "python -m convgrader release-gradescope --out dist/": "tests/selftest/test_readme_commands.py::test_releases",
    "tox -e grade -- --impl PATH --results results.json":
        "tests/selftest/test_readme_commands.py::test_tox_environments_run_the_documented_commands",
}
#: Commands that need what CI cannot have (PyTorch, a 2-minute throughput run): checked to be well formed only.
CHECKED_ONLY = {
    "tox -e bench -x testenv:bench.deps=torch==2.13.0 -- tests/benchmarks/test_bench_torch.py --impl answer_key":
        "needs PyTorch",
    "python tests/benchmarks/epoch_vs_torch.py": "needs PyTorch",
    "pytest --benchmark-only tests/benchmarks/test_bench_batch.py -s": "a throughput measurement",
}


def documented_commands(document):
    """The commands of a document's ```bash blocks, one per line, without their comments."""
    text = (PROJECT / document).read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def all_documented():
    return sorted({command for document in DOCUMENTS for command in documented_commands(document)})


def test_every_documented_command_is_run_somewhere():
    unplaced = [c for c in all_documented() if c not in RUN_HERE and c not in RUN_ELSEWHERE and c not in CHECKED_ONLY]
    assert unplaced == [], "say where these are run (RUN_HERE, RUN_ELSEWHERE or CHECKED_ONLY)"


@pytest.mark.parametrize("command", sorted(set(RUN_ELSEWHERE.values())))
def test_the_places_that_run_them_exist(command):
    if command == ".ci/run":
        script = (PROJECT / ".ci" / "run").read_text()
        assert "pip install" in script and "tox" in script and re.search(r"^python3 -m tox$", script, re.M)
        return
    path, function = command.split("::")
    tree = ast.parse((PROJECT / path).read_text(encoding="utf-8"))
    assert function in {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}, command


@pytest.mark.parametrize("command", sorted(c for c in RUN_HERE if c in all_documented()))
def test_a_students_command_does_what_the_readme_says(command):
    """Run as typed in the project's root: on the skeleton it fails as not implemented and ends with the table."""
    words = command.split()
    argv = [sys.executable, "-m", *words] if words[0] == "pytest" else [sys.executable, *words[1:]]
    run = subprocess.run(argv + ["-p", "no:cacheprovider"] if words[0] == "pytest" else argv, cwd=PROJECT,
                         capture_output=True, text=True, timeout=1200, env=outside_xdist())
    output = run.stdout + run.stderr
    assert run.returncode == RUN_HERE[command], output[-3000:]
    tail = "\n".join(run.stdout.rstrip().splitlines()[-12:])
    if "--benchmark-only" in words:
        assert "naive against fast layers" in run.stdout, output[-3000:]
    elif words[0] == "pytest":
        assert any(title in tail for title in TABLE_TITLES), tail
    else:
        assert "0.00 / 100" in run.stdout, output[-3000:]


def test_tox_environments_run_the_documented_commands():
    """``tox -e grade -- ARGS`` is ``python -m convgrader grade ARGS``, run by every grading self-test."""
    tox = (PROJECT / "tox.ini").read_text()
    grade = re.search(r"\[testenv:grade\](.*?)(?:\n\[|\Z)", tox, re.S).group(1)
    assert "python -m convgrader grade {posargs}" in grade
    bench = re.search(r"\[testenv:bench\](.*?)(?:\n\[|\Z)", tox, re.S).group(1)
    assert "pytest --benchmark-only {posargs" in bench


def test_checked_only_commands_are_well_formed():
    for command in CHECKED_ONLY:
        words = command.split()
        if words[0] == "python" and words[1].endswith(".py"):
            assert (PROJECT / words[1]).is_file(), command
        elif words[:2] == ["tox", "-e"]:
            assert f"[testenv:{words[2]}]" in (PROJECT / "tox.ini").read_text(), command
        paths = [word for word in words if word.startswith("tests/")]
        assert all((PROJECT / path).exists() for path in paths), command


def test_releases(tmp_path):
    """The release commands as documented, into a scratch ``dist/``."""
    for kind in ("release-student", "release-gradescope"):
        run = subprocess.run([sys.executable, "-m", "convgrader", kind, "--out", str(tmp_path / "dist")],
                             cwd=PROJECT, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert any((tmp_path / "dist").glob("*.zip"))
