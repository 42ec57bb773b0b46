"""What a course ships: the student release and the Gradescope autograder bundle.

``python -m convgrader release-student --out DIR``
    writes ``DIR/<name>/`` and ``DIR/<name>.zip``: the skeleton, the provided
    code, the Cython sources, the visible tests and fixtures, the notebook
    (outputs cleared), a README for students and a CI workflow. It leaves out
    the answer key, the hidden tests, the harness's self-tests and everything
    that needs the answer key, then proves it (:func:`find_leaks`: hashes of
    every secret file, ASTs of every secret function body) and refuses to
    finish when anything leaked.
``python -m convgrader release-gradescope --out DIR``
    writes ``DIR/autograder.zip``: Gradescope's ``setup.sh`` and
    ``run_autograder`` at the top, the harness with the answer key and the
    hidden tests around them.
``python -m convgrader gradescope-run --root /autograder``
    what ``run_autograder`` calls inside that bundle: it cleans up
    ``/autograder/submission``, grades it with ``python -m convgrader grade
    --hidden`` in a process of its own and always writes
    ``/autograder/results/results.json``.
"""

import ast
import configparser
import hashlib
import io
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from convgrader.course.submissions import SubmissionRejected, is_junk, normalize, walk
from convgrader import limits
from convgrader import language
from convgrader.paths import PROJECT
from convgrader.report import GRADED, Report, read_results_json, write_results_json
from convgrader.untrusted import shown_document

#: The files the releases ship as they are (scripts, the students' CI workflow), relative to the project.
RELEASE_FILES = "convgrader/course/release_files"
DEFAULT_NAME = "convnet-assignment"
#: The language the student release speaks by default (its tox.ini's convgrader_lang).
STUDENT_LANGUAGE = "ru"

#: What students receive, as paths relative to the project (a folder means all of it).
STUDENT_SOURCES = (
    "student_impl", "reference", "fast_ext", "convgrader", "fixtures", "tests/__init__.py",
    "tests/graded", "tests/benchmarks", "notebooks/convolutional_networks.ipynb",
    "conftest.py", "setup.py", "pyproject.toml", "LICENSE", ".gitignore",
    "docs/reading-failures.md", "docs/reading-failures.ru.md",  # the READMEs link them
)
#: Inside those, what must not reach students: the answer key and whatever needs it.
#: (The answer key is not among the sources at all: it is the top-level answer_key/.)
STUDENT_EXCLUDED = (
    "convgrader/course/generate_fixtures.py",  # rebuilds the fixtures from the answer key
    "tests/benchmarks/test_bench_batch.py",    # grades with the answer key's help
    "tests/benchmarks/epoch_vs_torch.py",      # trains the answer key's ThreeLayerConvNet
)
#: The secrets: a bundle holding a copy (bytes) or a function body (AST) of any of these leaks.
SECRET_SOURCES = ("answer_key", "tests/hidden", "tests/selftest", "notebooks/ci_shim")
SECRET_GLOBS = ("fixtures/hidden*",)
#: Secrets whose function bodies are searched too (the self-tests' own helpers, such as
#: ``rel_error``, are the notebook's and prove nothing; their implementations do).
SECRET_CODE = ("answer_key", "tests/hidden", "tests/selftest/implementations", "notebooks/ci_shim",
               "fixtures/hidden")
#: Files written for the student release: bundle path -> project path.
STUDENT_DOCS = {"README.md": "README.ru.md",
                ".github/workflows/grade.yml": "convgrader/course/release_files/grade.yml"}
#: The students' workflow of a GitHub Classroom assignment (``release-student --classroom``): it replaces
#: grade.yml and hands the points to Classroom's reporter action.
CLASSROOM_WORKFLOW = {".github/workflows/classroom.yml": "convgrader/course/release_files/classroom.yml"}

#: What the Gradescope bundle holds besides its two scripts (taken from convgrader/course/release_files/).
GRADESCOPE_SOURCES = (
    "answer_key", "reference", "student_impl", "fast_ext", "convgrader", "fixtures", "tests/__init__.py",
    "tests/graded", "tests/hidden", "conftest.py", "setup.py", "pyproject.toml", "tox.ini",
    "README.md", "LICENSE",
)
#: Nothing left out: the hidden twins of the visible tests draw fresh cases from generate_fixtures' recipes.
GRADESCOPE_EXCLUDED = ()
GRADESCOPE_SCRIPTS = ("setup.sh", "run_autograder")
#: Folders root alone may read on the grading machine (setup.sh and gradescope-run lock them).
LOCKED = ("answer_key", "tests/hidden")

#: Files never copied: build products, caches, editor and OS litter.
JUNK_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd", ".c", ".o", ".html")
#: Statements of the answer key with at least this many AST nodes are "its code": smaller
#: ones (``N, C, H, W = x.shape``) are common idioms that any implementation shares.
DISTINCTIVE_NODES = 20
#: Function bodies smaller than this (``return x``) prove nothing when they match.
TRIVIAL_BODY_NODES = 6
#: Rules of the student tox.ini: an environment whose settings mention any of these needs
#: the answer key or material students do not get.
INSTRUCTOR_ONLY_MARKERS = ("--impl=answer_key", "--impl answer_key", "ci_shim", "--selftest", "--hidden",
                           "answer_key", "fixtures.generate")
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed, so that the same tree always gives the same archive


def register(commands):
    student = commands.add_parser("release-student", help="build the student bundle (folder and zip)",
                                  description="Build the student release and prove it holds no secret.")
    student.add_argument("--out", type=Path, required=True, help="writes OUT/NAME/ and OUT/NAME.zip")
    student.add_argument("--name", default=DEFAULT_NAME, help=f"the bundle's name (default {DEFAULT_NAME})")
    student.add_argument("--classroom", action="store_true",
                         help="for a GitHub Classroom assignment: ship the workflow that reports the points to "
                              "Classroom (.github/workflows/classroom.yml) instead of grade.yml")
    student.set_defaults(run=run_release_student)

    gradescope = commands.add_parser("release-gradescope", help="build Gradescope's autograder.zip",
                                     description="Build the Gradescope autograder bundle.")
    gradescope.add_argument("--out", type=Path, required=True, help="writes OUT/autograder.zip")
    gradescope.add_argument("--lang", default=None, metavar="ru|en",
                            help=f"language of the students' results (baked into the bundle; default: "
                                 f"${language.ENV_VAR}, a Russian locale, this project's {language.INI_OPTION}, "
                                 f"then en)")
    gradescope.set_defaults(run=run_release_gradescope)

    runner = commands.add_parser("gradescope-run", help="(inside the autograder bundle) grade one submission",
                                 description="Grade ROOT/submission into ROOT/results/results.json.")
    runner.add_argument("--root", type=Path, default=Path("/autograder"))
    runner.add_argument("--time-limit", type=float, default=limits.RUN, metavar="SECONDS")
    runner.add_argument("--no-hidden", dest="hidden", action="store_false", help="visible tests only")
    runner.add_argument("--grade-args", default="", metavar="STRING",
                        help="more arguments for `grade`, split like a shell would (e.g. \"-k 'conv or pool'\")")
    runner.set_defaults(run=run_gradescope)


# -- choosing files -----------------------------------------------------------------------------

def is_left_out(relative):
    """Whether a file of the tree is no part of a release: a submission's litter (:func:`is_junk`) or a build product."""
    parts = PurePosixPath(relative).parts
    return is_junk(parts) or any(p.endswith(".egg-info") for p in parts) or relative.endswith(JUNK_SUFFIXES)


def select_files(project, sources, excluded):
    """{relative POSIX path: absolute path} of the files under ``sources``, minus ``excluded`` and junk."""
    project = Path(project)
    chosen = {}
    for source in sources:
        top = project / source
        candidates = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in candidates:
            relative = path.relative_to(project).as_posix()
            inside_excluded = any(relative == e or relative.startswith(e + "/") for e in excluded)
            if not inside_excluded and not is_left_out(relative) and not path.is_symlink():
                chosen[relative] = path
    return chosen


def secret_files(project):
    """{relative path: absolute path} of every file students must never receive."""
    project = Path(project)
    found = select_files(project, [s for s in SECRET_SOURCES if (project / s).exists()], ())
    for pattern in SECRET_GLOBS:
        for top in project.glob(pattern):
            found.update(select_files(project, [top.relative_to(project).as_posix()], ()))
    return found


# -- what the student bundle holds besides copies -------------------------------------------------

def tox_ini_speaking(project, lang):
    """The project's tox.ini with its ``convgrader_lang`` set to ``lang`` (the Gradescope bundle's)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep option names as written
    parser.read(Path(project) / "tox.ini", encoding="utf-8")
    if not parser.has_section("pytest"):
        parser.add_section("pytest")
    parser["pytest"][language.INI_OPTION] = language.normalize(lang)
    buffer = io.StringIO()
    parser.write(buffer)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()).strip() + "\n"


def student_tox_ini(project):
    """The project's tox.ini minus every environment that needs the answer key or the instructor's files.

    The base ``[testenv]`` is kept (the others inherit from it) with the student's own
    command, ``pytest``; the envlist becomes the environments that remain.
    """
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep option names as written
    parser.read(Path(project) / "tox.ini", encoding="utf-8")
    for section in list(parser.sections()):
        text = " ".join(parser[section].values())
        if section.startswith("testenv:") and any(m in text for m in INSTRUCTOR_ONLY_MARKERS):
            parser.remove_section(section)
    if parser.has_section("testenv"):
        parser["testenv"]["description"] = "your code (student_impl) against the graded tests"
        parser["testenv"]["commands"] = "\npytest {posargs}"
    if parser.has_section("testenv:grade"):
        parser["testenv:grade"]["description"] = "your points as the grader counts them (visible tests only)"
    if parser.has_section("tox"):
        parser["tox"]["envlist"] = "py3"
    if not parser.has_section("pytest"):
        parser.add_section("pytest")
    # The course is Russian: its students read the harness in Russian unless they ask
    # otherwise (--lang en, CONVGRADER_LANG=en); the instructors' checkout stays English.
    parser["pytest"][language.INI_OPTION] = STUDENT_LANGUAGE
    buffer = io.StringIO()
    buffer.write("# tox for the assignment: `tox` runs the graded tests on student_impl/,\n"
                 "# `tox -e grade` prints the points (visible tests only), `tox -e bench` the timings.\n")
    parser.write(buffer)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()).strip() + "\n"


def notebook_without_outputs(path):
    """The notebook's JSON with every output and execution count cleared (students run it themselves)."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return json.dumps(notebook, ensure_ascii=False, indent=1) + "\n"


def student_contents(project, classroom=False):
    """{bundle path: bytes} of the whole student release (with Classroom's workflow when ``classroom``)."""
    project = Path(project)
    contents = {relative: path.read_bytes()
                for relative, path in select_files(project, STUDENT_SOURCES, STUDENT_EXCLUDED).items()}
    for relative in [r for r in contents if r.endswith(".ipynb")]:
        contents[relative] = notebook_without_outputs(project / relative).encode("utf-8")
    contents["tox.ini"] = student_tox_ini(project).encode("utf-8")
    docs = dict(STUDENT_DOCS)
    if classroom:
        del docs[".github/workflows/grade.yml"]
        docs.update(CLASSROOM_WORKFLOW)
    for target, source in docs.items():
        contents[target] = (project / source).read_bytes()
    contents["README.md"] = student_readme(project).encode("utf-8")
    return dict(sorted(contents.items()))


#: README.ru.md's link to the English README, and what it becomes in the student release, where the
#: Russian README is README.md itself and the project's English README (for the project) is not shipped.
ENGLISH_LINK = ("[README.md](README.md) (and a summary at the end)",
                "[the summary at the end](#english-summary); how to read a failure: "
                "[docs/reading-failures.md](docs/reading-failures.md)")


def student_readme(project):
    """The student release's README.md: README.ru.md with its English link pointing inside the release."""
    text = (Path(project) / STUDENT_DOCS["README.md"]).read_text(encoding="utf-8")
    if ENGLISH_LINK[0] not in text:
        raise ValueError(f"README.ru.md no longer links {ENGLISH_LINK[0]!r}: update release.ENGLISH_LINK")
    return text.replace(ENGLISH_LINK[0], ENGLISH_LINK[1])


def gradescope_contents(project, lang=language.ENGLISH):
    """{bundle path: bytes} of the autograder bundle: its scripts at the top, the harness around them.

    ``lang`` is baked into the bundle's tox.ini (``convgrader_lang``), which
    ``gradescope-run`` reads and hands to every grading as ``--lang``.
    """
    project = Path(project)
    contents = {relative: path.read_bytes()
                for relative, path in select_files(project, GRADESCOPE_SOURCES, GRADESCOPE_EXCLUDED).items()}
    contents["tox.ini"] = tox_ini_speaking(project, lang).encode("utf-8")
    for script in GRADESCOPE_SCRIPTS:
        contents[script] = (project / RELEASE_FILES / script).read_bytes()
    return dict(sorted(contents.items()))


# -- writing ------------------------------------------------------------------------------------

EXECUTABLE = {"setup.sh", "run_autograder", "setup.py"}


def write_folder(contents, folder):
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    for relative, data in contents.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if PurePosixPath(relative).name in EXECUTABLE:
            target.chmod(0o755)


def write_zip(contents, archive, prefix=""):
    """A deterministic zip: sorted entries, fixed timestamps, scripts executable."""
    archive = Path(archive)
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for relative, data in sorted(contents.items()):
            info = zipfile.ZipInfo(prefix + relative, date_time=ZIP_TIME)
            mode = 0o755 if PurePosixPath(relative).name in EXECUTABLE else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, data)


# -- proving that nothing leaked ------------------------------------------------------------------

def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _is_empty_code(data, relative):
    """Empty files and docstring-only modules: equal bytes there prove no leak."""
    if not data.strip():
        return True
    if not relative.endswith(".py"):
        return False
    try:
        body = ast.parse(data).body
    except (SyntaxError, ValueError):
        return False
    return all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)


def _size(node):
    return sum(1 for _ in ast.walk(node))


def _fingerprint(statements):
    """A function body without its docstring, as an AST dump that ignores positions and comments."""
    if statements and isinstance(statements[0], ast.Expr) and isinstance(statements[0].value, ast.Constant):
        statements = statements[1:]
    return "\n".join(ast.dump(s, annotate_fields=False) for s in statements), sum(map(_size, statements))


def _functions(tree):
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def python_sources(relative, data):
    """The Python code of a file: a .py file's text, or a notebook's code cells (magics dropped)."""
    text = data.decode("utf-8", "replace")
    if relative.endswith(".py"):
        return [text]
    if relative.endswith(".ipynb"):
        try:
            cells = json.loads(text).get("cells", [])
        except ValueError:
            return []
        return ["\n".join(line for line in "".join(c.get("source", "")).splitlines()
                          if not line.lstrip().startswith(("%", "!")))
                for c in cells if c.get("cell_type") == "code"]
    return []


def _parsed(relative, data):
    for source in python_sources(relative, data):
        try:
            yield ast.parse(source)
        except (SyntaxError, ValueError):
            continue


@dataclass
class SecretCode:
    """What the leak check looks for: secret file hashes, function bodies and distinctive statements."""

    hashes: dict       # sha256 -> secret path
    bodies: dict       # body fingerprint -> "path:function"
    statements: dict   # statement dump -> "path:line"

    @classmethod
    def of(cls, project):
        hashes, bodies, statements = {}, {}, {}
        for relative, path in secret_files(project).items():
            data = path.read_bytes()
            if not _is_empty_code(data, relative):
                hashes.setdefault(_sha256(data), relative)
            searched = relative.startswith(SECRET_CODE)
            for tree in _parsed(relative, data) if searched else ():
                for function in _functions(tree):
                    body, size = _fingerprint(function.body)
                    if size >= TRIVIAL_BODY_NODES:
                        bodies.setdefault(body, f"{relative}:{function.name}")
                if relative.startswith("answer_key/"):
                    for node in ast.walk(tree):
                        if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.ClassDef)) \
                                and _size(node) >= DISTINCTIVE_NODES:
                            statements.setdefault(ast.dump(node, annotate_fields=False),
                                                  f"{relative}:{node.lineno}")
        return cls(hashes, bodies, statements)


def find_leaks(contents, project=PROJECT):
    """Every way ``contents`` ({bundle path: bytes}) gives a secret away; empty when it holds none.

    A leak is a file whose bytes equal a secret file's (any name), a function whose
    body equals one in the answer key, the hidden tests or the self-tests, a
    statement of the answer key's own code (>= ``DISTINCTIVE_NODES`` AST nodes),
    a path under a secret folder, or a tox environment that needs the answer key.
    Notebook code cells are searched like modules.
    """
    secrets = SecretCode.of(project)
    leaks = []
    for relative, data in contents.items():
        if any(relative == s or relative.startswith(s + "/") for s in SECRET_SOURCES) \
                or any(PurePosixPath(relative).match(g + "/*") or PurePosixPath(relative).match(g)
                       for g in SECRET_GLOBS) or "answer_key" in PurePosixPath(relative).parts:
            leaks.append(f"{relative}: a path students must not receive")
        digest = _sha256(data)
        if digest in secrets.hashes and not _is_empty_code(data, relative):
            leaks.append(f"{relative}: the same bytes as {secrets.hashes[digest]}")
        for tree in _parsed(relative, data):
            for function in _functions(tree):
                body, size = _fingerprint(function.body)
                if size >= TRIVIAL_BODY_NODES and body in secrets.bodies:
                    leaks.append(f"{relative}: {function.name} has the body of {secrets.bodies[body]}")
            for node in ast.walk(tree):
                if isinstance(node, ast.stmt) and _size(node) >= DISTINCTIVE_NODES:
                    dump = ast.dump(node, annotate_fields=False)
                    if dump in secrets.statements:
                        leaks.append(f"{relative}:{node.lineno}: a statement of {secrets.statements[dump]}")
    tox = contents.get("tox.ini", b"").decode("utf-8", "replace")
    leaks += [f"tox.ini mentions {m!r}" for m in INSTRUCTOR_ONLY_MARKERS if m in tox]
    return sorted(set(leaks))


# -- the commands -------------------------------------------------------------------------------

def build_student_release(out, name=DEFAULT_NAME, project=PROJECT, classroom=False):
    """Write ``out/name/`` and ``out/name.zip``; return (folder, archive, contents).

    Raises
    ------
    RuntimeError
        Listing the leaks, when the bundle would give a secret away (nothing is written then).
    """
    contents = student_contents(project, classroom)
    leaks = find_leaks(contents, project)
    if leaks:
        raise RuntimeError("the student release would leak:\n" + "\n".join(f"  {leak}" for leak in leaks))
    folder, archive = Path(out) / name, Path(out) / f"{name}.zip"
    write_folder(contents, folder)
    write_zip(contents, archive, prefix=f"{name}/")
    return folder, archive, contents


def build_gradescope_bundle(out, project=PROJECT, lang=language.ENGLISH):
    """Write ``out/autograder.zip`` whose results speak ``lang``; return (archive, contents)."""
    contents = gradescope_contents(project, lang)
    missing = [p for p in ("answer_key/layers.py", "tests/hidden/conftest.py", *GRADESCOPE_SCRIPTS)
               if p not in contents]
    if missing:
        raise RuntimeError(f"the autograder bundle would lack {', '.join(missing)}")
    archive = Path(out) / "autograder.zip"
    write_zip(contents, archive)
    return archive, contents


def _size_text(count):
    return f"{count / 1024:,.0f} KB" if count < 1 << 20 else f"{count / (1 << 20):,.1f} MB"


def run_release_student(args, extra):
    try:
        folder, archive, contents = build_student_release(args.out, args.name, classroom=args.classroom)
    except (RuntimeError, OSError) as error:
        print(f"release-student: {error}", file=sys.stderr)
        return 1
    print(f"student release: {folder} and {archive}")
    print(f"  {len(contents)} files, {_size_text(sum(map(len, contents.values())))} "
          f"({_size_text(archive.stat().st_size)} zipped); no answer-key code, hidden test or self-test inside")
    return 0


def run_release_gradescope(args, extra):
    try:
        lang = language.choose(args.lang, language.configured_in(PROJECT))
    except ValueError as error:
        print(f"release-gradescope: {error}", file=sys.stderr)
        return 2
    try:
        archive, contents = build_gradescope_bundle(args.out, lang=lang)
    except (RuntimeError, OSError) as error:
        print(f"release-gradescope: {error}", file=sys.stderr)
        return 1
    print(f"Gradescope autograder: {archive} ({len(contents)} files, {_size_text(archive.stat().st_size)}); "
          f"results in {lang}")
    print("  upload it as the assignment's autograder (Ubuntu base image); setup.sh installs the harness")
    return 0


# -- inside the autograder bundle ---------------------------------------------------------------

def lock_secrets(project=PROJECT):
    """Make the answer key and the hidden tests root's alone (when run as root: owner root, no group or other bits).

    What the sandboxed worker, run as 'nobody', needs (the harness, the provided
    code, the fixtures) stays readable; it cannot even list the secrets.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    locked = [Path(project) / relative for relative in LOCKED]
    for top, folders, files in os.walk(project):
        here = Path(top)
        if any(here == lock or lock in here.parents for lock in locked):
            for name in [*folders, *files]:
                path = here / name
                os.chown(path, 0, 0, follow_symlinks=False)
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode & ~0o077)
    for lock in locked:
        if lock.exists():
            os.chown(lock, 0, 0)
            lock.chmod(lock.stat().st_mode & ~0o077)


def submission_source(folder):
    """What to normalize: the upload folder, or the one .zip it holds when it holds no Python file."""
    folder = Path(folder)
    try:  # walk: iterative and depth-capped, as the upload's tree may be of any depth or size
        files = [Path(entry.path) for _, entry in walk(folder) if entry.is_file(follow_symlinks=False)]
    except SubmissionRejected:
        return folder  # normalize rejects it, saying why
    archives = [p for p in files if p.suffix.lower() == ".zip"]
    if not any(p.suffix == ".py" for p in files) and len(archives) == 1:
        return archives[0]
    return folder


def grade_in_subprocess(impl, results, time_limit, hidden, extra, log):
    """Run ``python -m convgrader grade`` on ``impl``; kill it and all it started after the time limit."""
    lang = language.configured_in(PROJECT) or language.ENGLISH  # the bundle's, whatever the image's locale
    command = [sys.executable, "-m", "convgrader", "grade", "--impl", str(impl), "--results", str(results),
               "--lang", lang, "--time-limit", f"{time_limit:g}", *(["--hidden"] if hidden else []), *extra]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=PROJECT, stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=(os.name == "posix"))
        try:
            return process.wait(timeout=time_limit + limits.WALL_CLOCK_MARGIN)
        except subprocess.TimeoutExpired:
            return None
        finally:
            if os.name == "posix":
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            process.kill()
            process.wait()


def autograde(root, time_limit=limits.RUN, hidden=True, extra=()):
    """Grade ``root/submission`` into ``root/results/results.json``; return the :class:`~convgrader.report.Report`.

    The grading engine writes into a folder only root can reach, and the file is
    copied into ``results/`` once grading is over, so the submission's code has
    no chance to write the report itself. Never raises: whatever happens, a
    results file is written.
    """
    root = Path(root)
    target = root / "results" / "results.json"
    language.set_current(language.configured_in(PROJECT) or language.ENGLISH)  # results.json is written here too
    started = time.time()
    notes = []
    try:
        lock_secrets(PROJECT)
        with tempfile.TemporaryDirectory(prefix="gradescope-run-") as scratch:
            scratch = Path(scratch)
            impl = scratch / "submission" / "student_impl"
            try:
                notes = normalize(submission_source(root / "submission"), impl)
            except SubmissionRejected as error:
                report = Report.rejected(f"{error}. Upload layers.py and classifiers/cnn.py (or the "
                                         "student_impl folder, or its .zip)")
                write_results_json(report, target)
                return report
            for path in [scratch, *scratch.rglob("*")]:  # the worker may run as 'nobody'
                path.chmod(0o755 if path.is_dir() else 0o644)
            private = Path(tempfile.mkdtemp(prefix="gradescope-results-"))  # 0700: root's alone
            try:
                status = grade_in_subprocess(impl, private / "results.json", time_limit, hidden, list(extra),
                                             private / "grade.log")
                log = (private / "grade.log").read_text(encoding="utf-8", errors="replace")
                # The grading's terminal: the submission's prints too.
                print(shown_document(log[-limits.GRADE_LOG_CHARACTERS:]))
                report = read_results_json(private / "results.json") if status is not None else None
            finally:
                shutil.rmtree(private, ignore_errors=True)
        if report is None or (report.status == GRADED and status not in (0, 1)):
            reason = ("the grading took longer than its time limit" if status is None
                      else f"the grader could not run (exit status {status})")
            report = Report.failed(reason, timings={"execution_time": time.time() - started})
        report.notes = notes + report.notes
    except Exception as error:  # a bug of ours or a broken image: still a results file
        report = Report.failed(f"the autograder failed ({type(error).__name__}: {error})", notes=notes,
                               timings={"execution_time": time.time() - started})
    write_results_json(report, target)
    return report


def run_gradescope(args, extra):
    report = autograde(args.root, time_limit=args.time_limit, hidden=args.hidden,
                       extra=shlex.split(args.grade_args))
    print(f"gradescope-run: {report.label}, score {report.score:g} written to "
          f"{args.root / 'results' / 'results.json'}")
    return 0
