"""Self-test: what a submission holds is data, never the grader's failure nor its terminal's master.

Issue 16's "only the machine causes 'grading failed'" and "student text is data
everywhere", attacked with variants of each class: escape sequences, carriage
returns and bidi overrides in exception messages, prints, imported names and
folder names; lone surrogates; rot13 and unknown codecs; names of hundreds of
characters; a file and a folder of one name; symbolic links in and out; trees
too deep or too large; folder names that are not UTF-8. Each must end as a
verdict with a reason (notes, a rejection, failed tests), with no raw control
character in any report or terminal output, and must not cost a neighbour
anything.

The uploads are made at test time (a name that is not UTF-8 cannot be stored
in git). The last tests grade for real, with ``grade --hidden`` and ``batch``,
at the strongest isolation the machine offers.
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
import zlib

import pytest

from convgrader import language
from convgrader.course.batch import Grader, find_submissions, fingerprint, run_batch
from convgrader.course.submissions import Limits, SubmissionRejected, normalize
from convgrader.paths import PROJECT
from convgrader.report import (GRADED, GRADING_FAILED, Report, Verdict, read_results_json, to_csv_row, to_junit,
                               to_markdown, to_text, write_results_json)
from convgrader.running import isolation
from tests.selftest.submission_files import write_tree, write_zip

#: What a hostile string may hold: terminal escapes (clear screen, window title, colours, the 8-bit
#: CSI), carriage return and backspace (writing over a line), a bidi override, a lone surrogate, NUL.
HOSTILE = ("\x1b[2J\x1b[H", "\x1b]0;owned\x07", "\x9b31m", "all tests passed: 110 / 110\r", "FAIL\b\b\b\b",
           "\u202eevil\u202c", "\udcff", "\x00")
HOSTILE_TEXT = "".join(HOSTILE)
#: A character that must never reach a report or a terminal raw.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
RAW_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")

LAYERS = "def conv_forward_naive(x, w, b, conv_param):\n    return x, None\n"
MODEL = "class ThreeLayerConvNet:\n    pass\n"
ALL_LAYERS = "".join(f"def {name}(*args):\n    pass\n" for name in (
    "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward"))


@pytest.fixture(autouse=True)
def english():
    """Notes and reasons in English, whatever this machine's locale (one test asks for Russian)."""
    before = language.current()
    language.set_current("en")
    yield
    language.set_current(before)


def assert_no_raw_characters(data, where=""):
    """No control character, escape sequence, bidi override or lone surrogate in ``data`` (str or bytes)."""
    if isinstance(data, bytes):
        data.decode("utf-8")  # every writer writes UTF-8
        found = RAW_BYTES.search(data)
    else:
        found = RAW.search(data)
    assert found is None, f"raw {found.group()!r} in {where}: ...{data[max(0, found.start() - 80):found.end() + 80]!r}"


def assert_no_raw_file(path):
    data = path.read_bytes()
    if path.suffix == ".csv":
        data = data.replace(b"\r\n", b"\n")  # the CSV format's own line ends
    assert_no_raw_characters(data, str(path))


def progress_bar_text(stderr):
    """The stderr of a batch without the carriage returns tqdm itself puts before each redraw of its bar."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8")
    return stderr.replace("\rgrading:", "\ngrading:")


# -- uploads: each becomes notes or a rejection, never an exception ------------------------------------

@pytest.mark.parametrize("declaration", ["rot13", "zlib_codec", "no-such-codec-at-all", "unicode_escape", "utf-7"])
def test_any_encoding_declaration_is_a_verdict_not_an_exception(tmp_path, declaration):
    # unicode_escape and utf-7 decode these bytes to lone surrogates, which no UTF-8 file can hold
    body = f"# -*- coding: {declaration} -*-\n# \\udcff +2D8-\n".encode("ascii") + LAYERS.encode()
    source = write_tree(tmp_path / "sub", {"layers.py": body, "classifiers/cnn.py": MODEL})
    notes = normalize(source, tmp_path / "out")
    text = (tmp_path / "out" / "layers.py").read_text(encoding="utf-8")
    assert "def conv_forward_naive" in text and "coding" not in text.splitlines()[0]
    assert all(isinstance(note, str) for note in notes)
    assert_no_raw_characters("\n".join(notes))


def test_a_name_longer_than_the_file_system_allows_is_left_out_with_a_note(tmp_path):
    long_name = "x" * 300 + ".py"
    archive = write_zip(tmp_path / "long.zip", {"layers.py": LAYERS, "classifiers/cnn.py": MODEL,
                                                f"helpers/{long_name}": "A = 1\n",
                                                "/".join(["d"] * 40) + "/deep.py": "B = 2\n"})
    notes = normalize(archive, tmp_path / "out")
    assert (tmp_path / "out" / "layers.py").read_text() == LAYERS
    assert any("left out" in note and "x" * 50 in note for note in notes), notes
    assert any("deep.py" in note and "folders deep" in note for note in notes), notes
    assert all(len(note) < 1000 for note in notes)


def test_notes_on_an_upload_are_in_the_students_language(tmp_path):
    archive = write_zip(tmp_path / "clash.zip", {"layers.py": LAYERS, "classifiers/cnn.py": MODEL,
                                                 "classifiers/cnn.py/inner.py": "C = 3\n"})
    language.set_current("ru")
    notes = normalize(archive, tmp_path / "out")
    assert any(note.startswith("файл classifiers/cnn.py/inner.py не взят") for note in notes), notes


def test_a_file_and_a_folder_of_one_name_keep_the_file(tmp_path):
    archive = write_zip(tmp_path / "clash.zip", {"layers.py": LAYERS, "classifiers/cnn.py": MODEL,
                                                 "classifiers/cnn.py/inner.py": "C = 3\n"})
    notes = normalize(archive, tmp_path / "out")
    assert (tmp_path / "out" / "classifiers" / "cnn.py").read_text() == MODEL
    assert any("cnn.py/inner.py" in note and "left out" in note for note in notes), notes


def test_a_full_disk_is_the_machines_fault_not_a_note(tmp_path, monkeypatch):
    from convgrader.course import submissions

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(submissions, "_write_source", full)
    source = write_tree(tmp_path / "sub", {"layers.py": LAYERS, "classifiers/cnn.py": MODEL})
    with pytest.raises(OSError, match="No space"):  # batch's grade_submission makes it "grading failed"
        normalize(source, tmp_path / "out")


def test_a_zip_whose_names_claim_utf8_falsely_is_a_rejection(tmp_path):
    archive = write_zip(tmp_path / "bad.zip", {"layers.py": LAYERS, "é.py": "x = 1\n"})
    data = archive.read_bytes()
    assert data.count("é".encode()) == 2  # the local header's name and the central directory's
    archive.write_bytes(data.replace("é".encode(), b"\xff\xfe"))
    with pytest.raises(SubmissionRejected, match="not a readable .zip"):
        normalize(archive, tmp_path / "out")


def test_a_zip_entry_with_corrupt_compressed_data_is_a_rejection(tmp_path):
    content = ("def conv_forward_naive():\n    return 1\n" * 50).encode()
    archive = write_zip(tmp_path / "corrupt.zip", {"layers.py": content})
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # what zipfile writes
    compressed = compressor.compress(content) + compressor.flush()
    data = archive.read_bytes()
    assert data.count(compressed) == 1
    archive.write_bytes(data.replace(compressed, b"\xff" * len(compressed)))  # zlib.error on reading
    with pytest.raises(SubmissionRejected, match="cannot be read"):
        normalize(archive, tmp_path / "out")


@pytest.mark.skipif(os.name != "posix", reason="symbolic links and byte names need POSIX here")
def test_names_of_any_bytes_and_links_in_and_out_are_skipped_or_escaped(tmp_path):
    source = write_tree(tmp_path / "sub", {"layers.py": LAYERS, "classifiers/cnn.py": MODEL})
    hostile = os.fsencode(source) + b"/\xff\x1b]0;owned\x07.py"
    with open(hostile, "w") as stream:
        stream.write("D = 4\n")
    os.symlink("/etc/passwd", source / "outside.py")
    os.symlink("layers.py", source / "inside.py")
    os.symlink("/", source / "root")
    os.symlink(".", source / "loop")
    notes = normalize(source, tmp_path / "out")
    assert sorted(os.listdir(tmp_path / "out")) == sorted(["classifiers", "layers.py", "\udcff\x1b]0;owned\x07.py"])
    assert sum("symbolic link" in note for note in notes) == 4, notes
    assert_no_raw_characters("\n".join(notes))
    fingerprint(source)  # the batch hashes the same tree: names of any bytes


def make_deep_tree(root, depth):
    """``root/d/d/.../d/layers.py``, ``depth`` folders deep (deeper than the path or recursion limits)."""
    root.mkdir()
    fds = [os.open(root, os.O_RDONLY)]
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fds[-1])
            fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
        with open(os.open("layers.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fds[-1]), "w") as stream:
            stream.write(LAYERS)
    finally:
        for fd in fds:
            os.close(fd)


def remove_deep_tree(root):
    """Remove what :func:`make_deep_tree` made, from the bottom (rmtree would recurse too deep)."""
    fds = [os.open(root, os.O_RDONLY)]
    while "d" in os.listdir(fds[-1]):
        fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
    for name in os.listdir(fds[-1]):
        os.unlink(name, dir_fd=fds[-1])
    while len(fds) > 1:
        os.close(fds.pop())
        os.rmdir("d", dir_fd=fds[-1])
    os.close(fds[0])
    shutil.rmtree(root)


@pytest.mark.skipif(os.name != "posix", reason="needs dir_fd")
def test_a_tree_deeper_than_the_limits_is_a_verdict(tmp_path):
    deep = tmp_path / "deep"
    make_deep_tree(deep, 1500)  # deeper than Python's recursion limit, longer than PATH_MAX
    try:
        write_tree(deep, {"classifiers/cnn.py": MODEL})
        with pytest.raises(SubmissionRejected, match="no layers.py found"):  # it lies below the depth cap
            normalize(deep, tmp_path / "out")
        fingerprint(deep)
    finally:
        remove_deep_tree(deep)


@pytest.mark.skipif(os.name != "posix", reason="needs dir_fd")
def test_the_gradescope_runner_finds_an_upload_in_a_tree_of_any_depth(tmp_path):
    from convgrader.course.release import submission_source

    upload = tmp_path / "submission"
    make_deep_tree(upload, 1500)
    try:
        assert submission_source(upload) == upload  # no RecursionError; normalize then says what it found
    finally:
        remove_deep_tree(upload)


def test_a_tree_with_too_many_entries_is_a_rejection(tmp_path):
    source = write_tree(tmp_path / "huge", {"layers.py": LAYERS, "classifiers/cnn.py": MODEL})
    for index in range(60):
        (source / f"junk{index}").mkdir()
    with pytest.raises(SubmissionRejected, match="more than 50 files and folders"):
        normalize(source, tmp_path / "out", Limits(max_members=50))
    fingerprint(source)


# -- writers: hostile text in every field --------------------------------------------------------------

def hostile_report():
    """A graded report whose every text field (message, printed output, tampering, notes) is hostile."""
    verdict = Verdict(nodeid=f"tests/graded/test_convolution.py::test_conv_forward_naive[{HOSTILE_TEXT}]",
                      name=f"test_conv_forward_naive[{HOSTILE_TEXT}]", part="conv_forward_naive",
                      outcome="failed", message=f"ValueError: {HOSTILE_TEXT}\n  in layers.py", output=HOSTILE_TEXT,
                      output_bytes=len(HOSTILE_TEXT), score=0.0, max_score=12.0)
    return Report(status=GRADED, tests=[verdict], tampering=[f"import of answer_key.{HOSTILE_TEXT}"],
                  notes=[f"{HOSTILE_TEXT}.py was not UTF-8"], impl=HOSTILE_TEXT, command=HOSTILE_TEXT)


@pytest.mark.parametrize("report", [hostile_report(), Report.rejected(HOSTILE_TEXT), Report.failed(HOSTILE_TEXT)],
                         ids=["graded", "rejected", "failed"])
def test_every_writer_escapes_what_the_submission_wrote(tmp_path, report):
    write_results_json(report, tmp_path / "results.json")  # a lone surrogate used to stop this
    assert_no_raw_file(tmp_path / "results.json")
    assert read_results_json(tmp_path / "results.json").status == report.status
    junit = to_junit(report)
    ElementTree.fromstring(junit.encode("utf-8"))  # well-formed
    for name, text in (("junit", junit), ("markdown", to_markdown(report)), ("terminal", to_text(report)),
                       ("csv", json.dumps(to_csv_row(report, HOSTILE_TEXT), ensure_ascii=False))):
        assert_no_raw_characters(text, name)
        assert "\\x1b" in text  # shown, as a visible escape


def test_the_sandboxs_replies_are_escaped_as_they_enter_the_grader():
    from convgrader.running.sandbox import SubmissionCrashed, _reply_texts

    reply = {"tamper": [f"import of answer_key.{HOSTILE_TEXT}"],
             "error": {"type": f"Hostile{HOSTILE_TEXT}", "message": HOSTILE_TEXT, "traceback": HOSTILE_TEXT}}
    tamper, error = _reply_texts(reply, "conv_forward_naive")
    for text in [*tamper, error["type"], error["message"]]:
        assert_no_raw_characters(text)
        assert "\\x1b" in text
    assert all(isinstance(v, (dict, list, type(None))) or not RAW.search(v) for v in error.values())
    assert "\n" not in tamper[0] + error["type"]
    for forged in ([], {"tamper": "x"}, {"error": "x"}):  # the worker is the submission's: any shape may come
        with pytest.raises(SubmissionCrashed, match="unreadable reply"):
            _reply_texts(forged, "conv_forward_naive")


# -- batch: a class with hostile names, graded by a stand-in grader ------------------------------------

FAKE_GRADE = """
import json, sys
from pathlib import Path
impl, results = Path(sys.argv[1]), Path(sys.argv[2])
source = "".join(p.read_text(encoding="utf-8") for p in sorted(impl.rglob("*.py")))
score = float(source.count("def "))
results.write_text(json.dumps({"score": score, "max_score": 6.0, "tests": [],
                               "extra_data": {"status": "graded", "notes": []}}))
"""


def hostile_class(folder):
    """Correct neighbours around uploads with hostile names and contents."""
    write_tree(folder / "anna", {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    write_tree(folder / "zoya", {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    for raw in (b"\xff\xfe-not-utf8", b"\x1b]0;owned\x07\x1b[2Jboris", b"-=HYPERLINK()\r", "x" * 250 + ".zip"):
        name = os.fsdecode(raw) if isinstance(raw, bytes) else raw
        if name.endswith(".zip"):
            write_zip(folder / name, {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
        else:
            write_tree(folder / name, {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    write_tree(folder / "rot13", {"layers.py": "# -*- coding: rot13 -*-\n" + ALL_LAYERS, "classifiers/cnn.py": MODEL})
    write_zip(folder / "clash.zip", {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL,
                                     "classifiers/cnn.py/x.py": "", "y" * 300 + ".py": ""})
    # Two entries whose escaped names are the same: each keeps a row of its own.
    write_tree(folder / os.fsdecode(b"twin\xff"), {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    write_tree(folder / "twin\\xff", {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    # A name that would put the submission's folder where the gradebook is written.
    write_zip(folder / "gradebook.csv.zip", {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    return folder


def test_a_batch_with_hostile_names_grades_every_neighbour_and_writes_every_row(tmp_path, capsys):
    script = tmp_path / "fake_grade.py"
    script.write_text(FAKE_GRADE)
    grader = Grader(lambda impl, results: [sys.executable, str(script), str(impl), str(results)], wall_clock=60)
    subs = hostile_class(tmp_path / "subs")
    summary = run_batch(subs, tmp_path / "out", grader, jobs=2, progress=True)
    assert_no_raw_file(tmp_path / "out" / "gradebook.csv")
    assert_no_raw_characters(progress_bar_text(capsys.readouterr().err), "the progress bar")
    with open(tmp_path / "out" / "gradebook.csv", newline="", encoding="utf-8-sig") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == len(os.listdir(subs)) == 11
    assert {row["status"] for row in rows} == {GRADED}, [(r["submission"], r["status"]) for r in rows]
    assert all(float(row["total"]) == 6.0 for row in rows), [(r["submission"], r["total"]) for r in rows]
    assert summary.count(GRADING_FAILED) == 0
    names = [row["submission"] for row in rows]
    assert len(set(names)) == len(names)
    assert "\\xff\\xfe-not-utf8" in names and "'-=HYPERLINK()\\x0d" in names
    for entry in (tmp_path / "out").iterdir():
        assert len(os.fsencode(entry.name)) <= 255
        assert_no_raw_characters(os.fsencode(entry.name), "an output folder's name")
        for file in entry.glob("*.*"):
            assert_no_raw_file(file)


def test_submission_names_are_escaped_unique_and_short(tmp_path):
    subs = hostile_class(tmp_path / "subs")
    submissions = find_submissions(subs)
    names = [s.name for s in submissions]
    assert len(set(names)) == len(names) == 11
    for submission in submissions:
        assert_no_raw_characters(submission.name)
        assert len(submission.name.encode("utf-8")) <= 160
        assert submission.path.exists()


# -- grading for real: grade --hidden and batch, at the strongest isolation here -----------------------

#: The parts graded for real (kept few, so that the self-test stays quick); the hostile code attacks
#: the first, prints into the second, and leaves the rest correct.
SELECTED = "conv_forward_naive or max_pool_forward_naive or spatial_batchnorm_forward"

HOSTILE_CODE = '''

import sys as _sys

_HOSTILE = {hostile!r}
_Hostile = type("Hostile" + _HOSTILE.replace("\\x00", "").replace("\\udcff", ""), (ValueError,), {{}})
_correct_max_pool_forward_naive = max_pool_forward_naive


def conv_forward_naive(x, w, b, conv_param):
    """Raises an exception whose type name, message and traceback are full of escape sequences."""
    raise _Hostile(_HOSTILE * 3)


def max_pool_forward_naive(x, pool_param):
    """Correct, but prints escape sequences and a fake summary over the real output."""
    print(_HOSTILE, "\\r\\x1b[1A all tests passed: 110 / 110", flush=True)
    _sys.stderr.write(_HOSTILE + "\\n")
    return _correct_max_pool_forward_naive(x, pool_param)
'''


def correct_copy(folder):
    """A submission holding a copy of the answer key's sources (reading a copy is no tampering)."""
    key = PROJECT / "answer_key"
    return write_tree(folder, {name: (key / name).read_text(encoding="utf-8")
                               for name in ("layers.py", "classifiers/cnn.py")})


def hostile_copy(folder):
    correct_copy(folder)
    layers = folder / "layers.py"
    layers.write_text(layers.read_text(encoding="utf-8") + HOSTILE_CODE.format(hostile=HOSTILE_TEXT),
                      encoding="utf-8")
    return folder


def points(results, part):
    tests = [t for t in results["tests"] if part in t["tags"]]
    assert tests, f"no test of {part} ran"
    return sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)


@pytest.mark.timeout(1800)  # real gradings, on a machine that may be busy
def test_grade_hidden_of_hostile_text_escapes_it_everywhere(tmp_path):
    submission = hostile_copy(tmp_path / "submissions" / "hostile")
    out = tmp_path / "report"
    run = subprocess.run([sys.executable, "-m", "convgrader", "grade", "--impl", str(submission), "--hidden",
                          "--results", str(out / "results.json"), "--junit", str(out / "junit.xml"),
                          "--markdown", str(out / "summary.md"), "--html", str(out / "report.html"),
                          "--lang", "en", "--call-timeout", "20", "-k", SELECTED],
                         cwd=PROJECT, capture_output=True, timeout=1200)
    assert run.returncode == 0, run.stdout.decode(errors="replace")[-3000:] + run.stderr.decode(errors="replace")
    assert_no_raw_characters(run.stdout, "grade's stdout")
    assert_no_raw_characters(run.stderr, "grade's stderr")
    for name in ("results.json", "junit.xml", "summary.md", "report.html"):
        assert_no_raw_file(out / name)
    ElementTree.parse(out / "junit.xml")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["extra_data"]["status"] == GRADED
    assert results["extra_data"]["isolation"] == isolation.available_level()
    assert points(results, "conv_forward_naive")[0] == 0  # the part that raises
    conv = [t for t in results["tests"] if "conv_forward_naive" in t["tags"]]
    assert all("\\x1b" in t["output"] for t in conv)  # the student still reads what was raised, escaped
    for part in ("max_pool_forward_naive", "spatial_batchnorm_forward"):  # printing costs nothing
        earned, available = points(results, part)
        assert earned == pytest.approx(available) and available > 0, part
    assert any(t["extra_data"].get("hidden") for t in results["tests"])


@pytest.mark.timeout(1800)  # real gradings, on a machine that may be busy
def test_batch_hidden_grades_hostile_uploads_beside_correct_neighbours(tmp_path):
    subs = tmp_path / "subs"
    correct_copy(subs / "anna")
    correct_copy(subs / os.fsdecode(b"\xff\xfe\x1b[2Jboris"))
    hostile_copy(subs / "hostile")
    rot13 = correct_copy(subs / "rot13")
    (rot13 / "layers.py").write_text("# -*- coding: rot13 -*-\n" + (rot13 / "layers.py").read_text())
    key = PROJECT / "answer_key"
    write_zip(subs / "clash.zip", {"hw/layers.py": (key / "layers.py").read_text(),
                                   "hw/classifiers/cnn.py": (key / "classifiers" / "cnn.py").read_text(),
                                   "hw/classifiers/cnn.py/x.py": "", "hw/" + "y" * 300 + ".py": ""})
    write_tree(subs / "importer", {"layers.py": "def conv_forward_naive(x, w, b, conv_param):\n"
                                                f"    __import__({'answer_key.' + HOSTILE_TEXT[:-1]!r})\n",
                                   "classifiers/cnn.py": MODEL})
    out = tmp_path / "out"
    command = [sys.executable, "-m", "convgrader", "batch", str(subs), "--out", str(out), "--jobs", "2", "--hidden",
               "--call-timeout", "20", "--lang", "en", "-k", SELECTED]
    if isolation.available_level() != isolation.NAMESPACES:
        command.insert(-2, "--allow-weak-isolation")
    run = subprocess.run(command, cwd=PROJECT, capture_output=True, timeout=1800)
    assert run.returncode == 0, run.stdout.decode(errors="replace") + run.stderr.decode(errors="replace")[-3000:]
    assert_no_raw_characters(run.stdout, "batch's stdout")
    assert_no_raw_characters(progress_bar_text(run.stderr), "batch's stderr (the progress bar)")
    assert_no_raw_file(out / "gradebook.csv")
    with open(out / "gradebook.csv", newline="", encoding="utf-8-sig") as stream:
        rows = {row["submission"]: row for row in csv.DictReader(stream)}
    assert set(rows) == {"anna", "\\xff\\xfe\\x1b[2Jboris", "hostile", "rot13", "clash", "importer"}
    assert not any(row["status"].startswith(GRADING_FAILED) for row in rows.values()), rows
    for name in ("anna", "\\xff\\xfe\\x1b[2Jboris", "rot13", "clash"):  # neighbours and harmless oddities
        results = json.loads((out / name / "results.json").read_text(encoding="utf-8"))
        for part in ("conv_forward_naive", "max_pool_forward_naive", "spatial_batchnorm_forward"):
            earned, available = points(results, part)
            assert earned == pytest.approx(available) and available > 0, (name, part)
    assert float(rows["hostile"]["conv_forward_naive"]) == 0
    assert rows["hostile"]["max_pool_forward_naive"] == rows["anna"]["max_pool_forward_naive"]  # printing is free
    assert rows["importer"]["status"].startswith("graded: tampering detected (import of answer_key")
    for folder in out.iterdir():
        if folder.is_dir():
            for file in folder.glob("*.*"):
                assert_no_raw_file(file)


@pytest.mark.timeout(1800)  # real gradings, on a machine that may be busy
def test_plain_pytest_in_process_shows_the_submissions_text_escaped(tmp_path):
    """A student's own ``pytest`` (no sandbox): failures and captured output reach the terminal escaped."""
    submission = hostile_copy(tmp_path / "submissions" / "hostile")
    for extra in ([], ["--tb=short", "-rA"]):  # the plugin's compact failures, and pytest's own sections
        run = subprocess.run([sys.executable, "-m", "pytest", str(PROJECT / "tests" / "graded"),
                              f"--impl={submission}", "--lang=en", "-p", "no:cacheprovider", "-k", SELECTED, *extra],
                             cwd=PROJECT, capture_output=True, timeout=900)
        assert run.returncode == 1, run.stdout.decode(errors="replace")[-3000:]
        assert_no_raw_characters(run.stdout, f"pytest's terminal {extra}")
        assert_no_raw_characters(run.stderr, f"pytest's stderr {extra}")
        assert b"\\x1b[2J" in run.stdout  # what the submission raised or printed is there, as visible escapes
