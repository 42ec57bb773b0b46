"""Self-test of what a course ships: the student release and the Gradescope autograder bundle.

The student release is built, read back from its zip and searched for secrets
(by hashes and ASTs, not by file names); a leak planted on purpose must be
found. Then the zip is unpacked and installed in ONE fresh virtual environment,
as a student would, where its own ``pytest`` must fail every graded test as
"not implemented" and its notebook's imports must run.

The autograder bundle is unpacked into a temporary root laid out like
Gradescope's (``source/``, ``submission/``, ``results/``, and the same fresh
environment as ``venv/``), and ``run_autograder`` grades a correct, a buggy,
a hostile and an empty upload there: results.json is always written and right.
"""

import ast
import hashlib
import json
import os
import posixpath
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path

import pytest

from convgrader.course import release
from convgrader.assignment import PARTS
from convgrader.paths import PROJECT
from tests.selftest.graded_runs import junit_part
from tests.selftest.test_readme_commands import documented_commands

VECTORIZED = PROJECT / "tests" / "selftest" / "implementations" / "vectorized"
NAME = "convnet-assignment"
# Only the CIFAR-10 rows may skip: the data set is not on a fresh machine.
MAY_SKIP = ("cifar10",)

pytestmark = pytest.mark.timeout(3600)


def zip_contents(archive, prefix=""):
    with zipfile.ZipFile(archive) as bundle:
        return {info.filename[len(prefix):]: bundle.read(info) for info in bundle.infolist()
                if not info.is_dir()}


def unpack(archive, destination):
    """Unzip keeping the executable bits the archive records (zipfile drops them)."""
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(destination)
        for info in bundle.infolist():
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                (Path(destination) / info.filename).chmod(mode)


@pytest.fixture(scope="module")
def scratch():
    """A folder every user may traverse (the Gradescope root lives here, and 'nobody' must reach it)."""
    folder = Path(tempfile.mkdtemp(prefix="convgrader-release-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def bundles(scratch):
    """Both bundles, built one right after the other: the same snapshot of a tree others edit."""
    student = release.build_student_release(scratch / "out", NAME)
    gradescope = release.build_gradescope_bundle(scratch / "gradescope-out")
    return student, gradescope


@pytest.fixture(scope="module")
def student_release(bundles):
    return bundles[0]


# -- the student release: what is in, what is out ------------------------------------------------

def test_student_release_holds_what_students_need(student_release):
    folder, archive, contents = student_release
    needed = ["student_impl/layers.py", "student_impl/classifiers/cnn.py", "reference/layers.py",
              "reference/fast_layers.py", "fast_ext/_kernels.pyx", "convgrader/judging/plugin.py", "convgrader/judging/fixtures.py",
              "tests/graded/test_convolution.py", "tests/benchmarks/test_bench_layers.py",
              "notebooks/convolutional_networks.ipynb", "README.md", ".github/workflows/grade.yml", "tox.ini",
              "setup.py", "pyproject.toml", "conftest.py", "LICENSE"]
    assert [p for p in needed if p not in contents] == []
    shipped = {p.relative_to(PROJECT / "fixtures").as_posix() for p in (PROJECT / "fixtures" / "data").rglob("*.npz")}
    assert {p[len("fixtures/"):] for p in contents if p.startswith("fixtures/data/")} == shipped
    assert contents["README.md"].decode("utf-8") == release.student_readme(PROJECT)
    assert contents[".github/workflows/grade.yml"] == (PROJECT / release.RELEASE_FILES / "grade.yml").read_bytes()
    left_out = ["answer_key/layers.py", "convgrader/course/generate_fixtures.py", "tests/benchmarks/test_bench_batch.py",
                "tests/hidden/conftest.py", "tests/selftest/conftest.py"]
    assert [p for p in left_out if p in contents] == []
    assert not any(p.startswith(("tests/hidden/", "tests/selftest/", "notebooks/ci_shim/"))
                   or p.endswith((".so", ".pyc", ".c")) or "__pycache__" in p for p in contents)
    assert [p for p in contents if p.startswith("docs/")] == ["docs/reading-failures.md", "docs/reading-failures.ru.md"]


#: A Markdown link's target: ``[text](target)``.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_every_link_of_the_student_release_resolves_inside_it(student_release):
    """README.md and the docs it links: each relative link is a shipped file or a heading of its page."""
    _, _, contents = student_release
    pages = ["README.md"] + [p for p in contents if p.startswith("docs/") and p.endswith(".md")]
    broken = []
    for page in pages:
        text = contents[page].decode("utf-8")
        for target in LINK.findall(text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            if target.startswith("#"):
                headings = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                            for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}
                if target[1:] not in headings:
                    broken.append(f"{page}: {target}")
                continue
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), target.split("#")[0]))
            if resolved not in contents or resolved == page:
                broken.append(f"{page}: {target}")
    assert broken == []


def test_student_zip_equals_folder_and_builds_reproducibly(student_release, scratch):
    folder, archive, contents = student_release
    assert zip_contents(archive, f"{NAME}/") == contents
    on_disk = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert on_disk == contents
    _, again, _ = release.build_student_release(scratch / "again", NAME)
    assert again.read_bytes() == archive.read_bytes()


def test_student_notebook_ships_without_outputs(student_release):
    notebook = json.loads(student_release[2]["notebooks/convolutional_networks.ipynb"])
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)


def test_student_tox_has_no_environment_that_needs_the_answer_key(student_release):
    tox = student_release[2]["tox.ini"].decode()
    assert not any(marker in tox for marker in ("reference", "--selftest", "--hidden", "ci_shim", "notebook"))
    assert "[testenv:grade]" in tox and "[pytest]" in tox


def _secret_files():
    secrets = [p for top in ("answer_key", "tests/hidden", "tests/selftest", "notebooks/ci_shim")
               for p in (PROJECT / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return secrets + [p for top in PROJECT.glob("fixtures/hidden*") for p in
                      ([top] if top.is_file() else top.rglob("*")) if p.is_file()]


def test_no_secret_file_is_inside_under_any_name(student_release):
    """Every file of the zip against every secret file, by sha256 (empty and docstring-only files prove nothing)."""
    shipped = zip_contents(student_release[1], f"{NAME}/")
    secret = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in _secret_files()
              if not release._is_empty_code(p.read_bytes(), p.name)}
    assert len(secret) > 50
    same = [f"{name} = {secret[hashlib.sha256(data).hexdigest()]}" for name, data in shipped.items()
            if hashlib.sha256(data).hexdigest() in secret]
    assert same == []


def test_no_answer_key_function_body_is_inside(student_release):
    """Every function of the answer key, compared by AST (docstrings, comments and layout ignored)."""
    def bodies(tree):
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                found.add(ast.dump(ast.Module(body=body, type_ignores=[])))
        return found

    key = set().union(*(bodies(ast.parse(p.read_text())) for p in (PROJECT / "answer_key").rglob("*.py")))
    assert len(key) >= 10
    shipped = zip_contents(student_release[1], f"{NAME}/")
    leaked = []
    for name, data in shipped.items():
        for source in release.python_sources(name, data):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            leaked += [name for body in bodies(tree) & key]
    assert leaked == []
    assert release.find_leaks(shipped) == []


def test_leak_check_finds_planted_leaks(student_release):
    contents = dict(student_release[2])
    key_source = (PROJECT / "answer_key" / "layers.py").read_text()
    key_tree = ast.parse(key_source)
    conv = next(n for n in key_tree.body if isinstance(n, ast.FunctionDef) and n.name == "conv_forward_naive")
    # Retyped: same code, new layout and docstring, no comments; pasted into the skeleton.
    conv.body[0] = ast.Expr(ast.Constant("my own work"))
    planted = dict(contents)
    planted["student_impl/layers.py"] = contents["student_impl/layers.py"] + b"\n\n" + ast.unparse(conv).encode()
    assert any("conv_forward_naive has the body of answer_key/layers.py" in leak
               for leak in release.find_leaks(planted))
    hidden = (PROJECT / "tests" / "hidden" / "conftest.py").read_bytes()
    renamed = dict(contents, **{"fixtures/data/conv/extra.npz": hidden})
    assert any("the same bytes as tests/hidden/conftest.py" in leak for leak in release.find_leaks(renamed))
    tox = dict(contents, **{"tox.ini": contents["tox.ini"] + b"\n[testenv:key]\ncommands = pytest --impl=answer_key\n"})
    assert release.find_leaks(tox)
    notebook = json.loads(contents["notebooks/convolutional_networks.ipynb"])
    notebook["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                              "source": ast.unparse(conv)})
    in_notebook = dict(contents, **{"notebooks/convolutional_networks.ipynb": json.dumps(notebook).encode()})
    assert release.find_leaks(in_notebook)


# -- the student release, installed as a student would ---------------------------------------------

@pytest.fixture(scope="module")
def student_env(student_release, scratch):
    """The zip unpacked and installed in a fresh venv as its README says (``python -m venv .venv``, ...)."""
    unpack(student_release[1], scratch / "student")
    bundle = scratch / "student" / NAME
    venv = scratch / "venv"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=600)
    python = venv / "bin" / "python"
    # The README's install line, as written, with the new venv's interpreter for its `python`.
    documented = next(c for c in documented_commands("README.ru.md") if c.startswith("python -m pip install -e"))
    install = subprocess.run([str(python), *documented.split()[1:-1], documented.split()[-1].strip('"'), "--quiet"],
                             cwd=bundle, capture_output=True, text=True, timeout=3600)
    assert install.returncode == 0, f"pip install failed:\n{install.stdout[-3000:]}\n{install.stderr[-3000:]}"
    print(f"\nstudent bundle installed in a fresh venv in {time.monotonic() - started:.0f} s")
    return bundle, python


def clean_env(**extra):
    """The environment without this project on PYTHONPATH, so only the bundle is importable."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    return dict(env, **extra)


def test_bundle_pytest_fails_every_graded_test_as_not_implemented(student_env, scratch):
    bundle, python = student_env
    report = scratch / "student-junit.xml"
    run = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
                         cwd=bundle, env=clean_env(), capture_output=True, text=True, timeout=1800)
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    cases = list(ElementTree.parse(report).getroot().iter("testcase"))
    assert len(cases) > 50
    wrong, parts = [], set()
    for case in cases:
        assert case.get("classname", "").startswith("tests.graded."), case.get("classname")
        outcome = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        message = "" if outcome is None else (outcome.get("message", "") + (outcome.text or ""))
        # The student release speaks Russian by default ("... еще не реализована").
        failed_as_todo = outcome is not None and outcome.tag == "failure" and "не реализован" in message
        skipped_cifar = (outcome is not None and outcome.tag == "skipped"
                         and any(s in case.get("name") for s in MAY_SKIP))
        if not (failed_as_todo or skipped_cifar):
            wrong.append(f"{case.get('name')}: {message[:200]}")
        parts.add(junit_part(case))
    assert wrong == []
    assert parts == set(PARTS)
    assert run.stdout.rstrip().splitlines()[-len(PARTS) - 1].strip("= ") == "части задания"


def test_pypi_fixtures_imports_beside_the_installed_bundle(student_env, scratch):
    """Installing the project shadows no other distribution: PyPI's ``fixtures`` imports beside it."""
    bundle, python = student_env
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "fixtures"], capture_output=True,
                             text=True, timeout=1200)
    assert install.returncode == 0, install.stderr[-2000:]
    for cwd in (scratch, bundle):  # the bundle's own fixtures/ folder is data, not a package
        run = subprocess.run([str(python), "-c", "import fixtures, convgrader, reference, fast_ext; "
                              "print(fixtures.Fixture.__module__)"], cwd=cwd, env=clean_env(),
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0 and run.stdout.strip().startswith("fixtures"), run.stderr[-2000:]


def test_bundle_notebook_imports(student_env):
    """The notebook's first cell (its imports and helpers) runs, and so does every import it makes later."""
    bundle, python = student_env
    notebook = json.loads((bundle / "notebooks" / "convolutional_networks.ipynb").read_text(encoding="utf-8"))
    cells = [release.python_sources("x.ipynb", json.dumps({"cells": [c]}).encode())[0]
             for c in notebook["cells"] if c["cell_type"] == "code"]
    imports = [ast.unparse(node) for cell in cells for node in ast.walk(ast.parse(cell))
               if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert any("student_impl" in line for line in imports)
    program = cells[0] + "\n" + "\n".join(imports) + "\nprint('notebook imports ok')\n"
    run = subprocess.run([str(python), "-c", program], cwd=bundle / "notebooks",
                         env=clean_env(MPLBACKEND="Agg"), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "notebook imports ok" in run.stdout, run.stderr[-3000:]


# -- the Gradescope bundle in a simulated /autograder ---------------------------------------------

@pytest.fixture(scope="module")
def autograder_root(bundles, student_env, scratch):
    """``root/source`` (the bundle unpacked), ``root/venv`` (the fresh env), as after setup.sh.

    setup.sh itself needs apt and root; what it leaves behind is reproduced here:
    the harness importable from the venv, fast_ext compiled (the student bundle's
    build of the very same .pyx), the secrets locked.
    """
    archive, contents = bundles[1]
    root = scratch / "autograder"
    unpack(archive, root / "source")
    source = root / "source"
    kernels = "fast_ext/_kernels.pyx"
    assert (source / kernels).read_bytes() == (student_env[0] / kernels).read_bytes()
    for built in (student_env[0] / "fast_ext").glob("_kernels*.so"):
        shutil.copy2(built, source / "fast_ext" / built.name)
    (root / "venv").symlink_to(student_env[1].parent.parent)
    for folder in (root, source):
        folder.chmod(0o755)
    print(f"\nautograder.zip: {archive.stat().st_size / 1024:.0f} KB, {len(contents)} files")
    return root


def run_autograder(root, submission_setup, grade_args="", python=None, time_limit=900):
    submission = root / "submission"
    results = root / "results" / "results.json"
    shutil.rmtree(submission, ignore_errors=True)
    submission.mkdir()
    submission_setup(submission)
    env = clean_env(AUTOGRADER_ROOT=str(root), AUTOGRADER_GRADE_ARGS=grade_args,
                    AUTOGRADER_TIME_LIMIT=str(time_limit))
    if python:
        env["AUTOGRADER_PYTHON"] = python
    started = time.monotonic()
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd="/", env=env,
                         capture_output=True, text=True, timeout=time_limit + 600)
    print(f"\nrun_autograder ({grade_args or 'all tests'}): {time.monotonic() - started:.0f} s")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert results.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(results.read_text(encoding="utf-8"))
    for key in ("score", "execution_time", "output", "visibility", "stdout_visibility", "tests"):
        assert key in report, key
    for test in report["tests"]:
        assert {"score", "max_score", "status", "name", "output", "visibility"} <= set(test)
    return report, run


def copy_of_vectorized(destination, bug=None):
    """The independent correct implementation, optionally with one line changed (old -> new)."""
    shutil.copytree(VECTORIZED, destination, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    if bug:
        layers = destination / "layers.py"
        text = layers.read_text()
        assert bug[0] in text
        layers.write_text(text.replace(bug[0], bug[1], 1))


def test_gradescope_correct_submission_scores_full_marks(autograder_root):
    """A full grade, hidden tests included, of a correct upload nested two folders deep."""
    report, run = run_autograder(autograder_root, lambda s: copy_of_vectorized(s / "hw3" / "student_impl"))
    assert report["score"] >= 100, report["output"]
    failed = [t["name"] for t in report["tests"] if t["status"] != "passed"]
    assert failed == []
    assert any(t["visibility"] == "after_published" for t in report["tests"])  # the hidden tests ran
    assert {tag for t in report["tests"] for tag in t.get("tags", [])} == set(PARTS)


def test_gradescope_buggy_zip_loses_the_buggy_part_only(autograder_root):
    def upload(submission):
        no_bias = ("out.transpose(0, 3, 1, 2) + b[None, :, None, None]", "out.transpose(0, 3, 1, 2)")
        copy_of_vectorized(submission / "work" / "student_impl", bug=no_bias)
        with zipfile.ZipFile(submission / "student_impl.zip", "w") as archive:
            for path in (submission / "work").rglob("*.py"):
                archive.write(path, path.relative_to(submission / "work").as_posix())
        shutil.rmtree(submission / "work")

    report, _ = run_autograder(autograder_root, upload, grade_args="-k 'conv_forward_naive or max_pool_forward'")
    by_part = {}
    for test in report["tests"]:
        by_part.setdefault(test["tags"][0], []).append(test["status"])
    assert "failed" in by_part["conv_forward_naive"]
    assert set(by_part["max_pool_forward_naive"]) == {"passed"}
    assert 0 < report["score"] < 100


def test_gradescope_hostile_submission_scores_zero_and_cannot_forge_results(autograder_root):
    results = autograder_root / "results" / "results.json"
    answer_key = autograder_root / "source" / "answer_key" / "layers.py"
    attack = f'''

def conv_forward_naive(x, w, b, conv_param):
    import json, sys
    for forged in ({str(results)!r}, {str(results) + ".partial"!r}):
        try:
            with open(forged, "w") as handle:
                json.dump({{"score": 1000, "tests": []}}, handle)
        except OSError:
            pass
    try:
        stolen = {{}}
        exec(open({str(answer_key)!r}).read(), stolen)
        return stolen["conv_forward_naive"](x, w, b, conv_param)
    except OSError:
        sys.exit(3)
'''

    def upload(submission):
        copy_of_vectorized(submission)
        with open(submission / "layers.py", "a") as layers:
            layers.write(attack)

    report, _ = run_autograder(autograder_root, upload, grade_args="-k conv_forward_naive")
    assert report["score"] == 0
    assert report["tests"] and all(t["score"] == 0 for t in report["tests"])
    if not release_runs_as_nobody():
        assert "TAMPERING" in report["output"]  # it read the key: caught and scored 0
    assert json.loads(results.read_text())["score"] == 0


def release_runs_as_nobody():
    """Whether the grader here would run submissions as 'nobody' (root, and nobody can run this Python)."""
    from convgrader.running.sandbox import unprivileged_user
    return bool(unprivileged_user())


def test_gradescope_secrets_are_locked_from_other_users(autograder_root):
    """After a run, the answer key and hidden tests are root's alone, the rest readable by anyone."""
    source = autograder_root / "source"
    if os.geteuid() != 0:
        pytest.skip("locking needs root, as on Gradescope")
    run_autograder(autograder_root, lambda s: None)  # any run locks them, an empty upload is the quickest
    for secret in ("answer_key", "tests/hidden"):
        for path in [source / secret, *(source / secret).rglob("*")]:
            assert path.stat().st_mode & 0o077 == 0, path
    readable = source / "tests" / "graded" / "test_convolution.py"
    as_nobody = {"user": "nobody", "group": "nogroup"}  # as the sandbox starts its worker
    assert subprocess.run(["cat", str(readable)], capture_output=True, **as_nobody).returncode == 0
    blocked = subprocess.run(["cat", str(source / "answer_key" / "layers.py")],
                             capture_output=True, text=True, **as_nobody)
    assert blocked.returncode != 0 and "Permission denied" in blocked.stderr


def test_gradescope_empty_upload_scores_zero_with_a_reason(autograder_root):
    report, _ = run_autograder(autograder_root, lambda s: None)
    assert report["score"] == 0 and report["tests"] == []
    assert "no layers.py" in report["output"]


def test_gradescope_broken_image_still_writes_results(autograder_root):
    report, _ = run_autograder(autograder_root, lambda s: copy_of_vectorized(s), python="/nonexistent/python")
    assert report["score"] == 0 and "autograder itself failed" in report["output"]


def test_gradescope_scripts_are_valid_bash():
    for script in release.GRADESCOPE_SCRIPTS:
        path = PROJECT / release.RELEASE_FILES / script
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0, script
        assert path.stat().st_mode & stat.S_IXUSR, f"{script} is not executable"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_gradescope_bundle_speaks_the_language_it_was_built_with(lang):
    """release-gradescope --lang is baked into the bundle's tox.ini, where gradescope-run reads it for every grading."""
    import configparser

    from convgrader import language

    tox = release.gradescope_contents(PROJECT, lang)["tox.ini"].decode("utf-8")
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(tox)
    assert parser.get("pytest", language.INI_OPTION) == lang
    project = configparser.ConfigParser(interpolation=None)
    project.read(PROJECT / "tox.ini", encoding="utf-8")
    kept = {key: value for key, value in project["pytest"].items() if key != language.INI_OPTION}
    assert {key: parser["pytest"][key] for key in kept} == kept  # the project's other pytest settings stay
