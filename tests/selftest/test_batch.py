"""Self-test: grading a whole class with ``python -m convgrader batch``, and merging shards.

Most tests inject a fake grader (a tiny script run as a subprocess, like the
real ``grade``) that scores a part 1 when its ``def``/``class`` appears in the
sources and misbehaves on request; one test grades for real.
"""

import csv
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.selftest.submission_files import write_tree, write_zip

from convgrader.course import batch
from convgrader.course.batch import COLUMNS, Grader, MergeError, Shard, find_submissions, merge_gradebooks, run_batch
from convgrader.assignment import LAYER_FUNCTIONS, MODEL_CLASS, OPTIONAL_PARTS, PARTS
from convgrader.report import from_csv_row, from_results_json, to_csv_row
from convgrader.running import isolation
from convgrader.paths import PROJECT


FAKE_GRADER = textwrap.dedent('''
    """A stand-in for `python -m convgrader grade`: argv = IMPL RESULTS CALLS_LOG."""
    import json, os, subprocess, sys, time
    from pathlib import Path

    impl, results, calls = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    with open(calls, "a") as log:
        log.write(impl.parent.name + "\\n")
    source = "".join(p.read_text(encoding="utf-8") for p in sorted(impl.rglob("*.py")))
    if "FAKE: hang" in source:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        (impl.parent / "pids").write_text(f"{os.getpid()} {child.pid}")
        time.sleep(120)
    if "FAKE: cannot run" in source:
        sys.exit(2)
    if "FAKE: no results" in source:
        sys.exit(0)
    if "FAKE: grading failed" in source:  # what `grade` writes when its sandbox cannot start, twice
        results.write_text(json.dumps({"score": 0.0, "tests": [], "extra_data": {
            "status": "grading failed", "reason": "the sandbox's start crashed with SIGKILL"}}))
        sys.exit(2)
    for line in source.splitlines():
        if line.startswith("# FAKE: write "):  # a submission that changes the harness
            Path(line[len("# FAKE: write "):]).write_text("changed")
    if "FAKE: daemon" in source:  # leaves a process in a session of its own that forges the report later
        forger = f"import time; time.sleep(3); open({str(impl.parent / 'results.json')!r}, 'w').write('forged')"
        child = subprocess.Popen([sys.executable, "-c", forger], start_new_session=True)
        (impl.parent.parent / "daemon.pid").write_text(str(child.pid))
    if "FAKE: slow" in source:
        time.sleep(60)
    parts = {}
    for part in PARTS:
        score = float(f"def {part}(" in source or f"class {part}" in source)
        parts[part] = {"score": score, "max_score": 1.0, "passed": int(score), "total": 1}
    results.write_text(json.dumps({
        "score": sum(p["score"] for p in parts.values()), "max_score": float(len(PARTS) - len(BONUS)),
        "execution_time": 0.1, "output": "", "tests": [],
        "extra_data": {"parts": parts, "bonus_parts": BONUS}}))
''')

ALL_LAYERS = "".join(f"def {name}(*args):\n    pass\n" for name in LAYER_FUNCTIONS)
MODEL = f"class {MODEL_CLASS}:\n    pass\n"


@pytest.fixture
def fake_grader(tmp_path):
    """A :class:`Grader` running the fake; ``.calls()`` lists the submissions it graded, in order."""
    script = tmp_path / "fake_grade.py"
    script.write_text(f"PARTS = {list(PARTS)!r}\nBONUS = {list(OPTIONAL_PARTS)!r}\n" + FAKE_GRADER)
    calls = tmp_path / "calls.log"
    grader = Grader(lambda impl, results: [sys.executable, str(script), str(impl), str(results), str(calls)],
                    wall_clock=30)
    grader.calls = lambda: calls.read_text().split() if calls.exists() else []
    return grader


def messy_class(folder):
    """Eight submissions, each messy in its own way."""
    write_tree(folder / "anna", {"student_impl/layers.py": ALL_LAYERS, "student_impl/classifiers/cnn.py": MODEL})
    write_tree(folder / "boris", {"hw3/student_impl/layers.py": "def conv_forward_naive(x):\n    pass\n",
                                  "hw3/student_impl/classifiers/cnn.py": "", "hw3/.DS_Store": "x"})
    write_zip(folder / "vera.zip", {"student_impl/layers.py": ALL_LAYERS, "student_impl/classifiers/cnn.py": MODEL,
                                    "__MACOSX/student_impl/._layers.py": b"\0\5\26\7"})
    write_tree(folder / "gleb", {"layers.py": ("# Свёртка\n" + ALL_LAYERS).encode("cp1251"),
                                 "classifiers/cnn.py": MODEL})
    write_zip(folder / "dina.zip", {"layers.py": ALL_LAYERS, "../../escape.py": "x = 1\n"})
    write_tree(folder / "egor", {"notebook.ipynb": "{}"})
    write_tree(folder / "zhanna", {"layers.py": "# FAKE: cannot run\n", "classifiers/cnn.py": MODEL})
    write_tree(folder / "ilya", {"layers.py": "def broken(:\n", "classifiers/cnn.py": MODEL})
    (folder / "__MACOSX").mkdir()
    (folder / ".hidden").write_text("not a submission")
    return folder


def read_gradebook(path):
    with open(path, newline="", encoding="utf-8-sig") as stream:
        reader = csv.DictReader(stream)
        assert tuple(reader.fieldnames) == COLUMNS
        return {row["submission"]: row for row in reader}


def test_a_messy_class_is_graded_into_one_row_each(tmp_path, fake_grader):
    subs, out = messy_class(tmp_path / "subs"), tmp_path / "out"
    summary = run_batch(subs, out, fake_grader, jobs=2, progress=False)
    rows = read_gradebook(out / "gradebook.csv")
    assert summary.gradebook == out / "gradebook.csv"
    assert list(rows) == ["anna", "boris", "dina", "egor", "gleb", "ilya", "vera", "zhanna"]
    status = {name: row["status"] for name, row in rows.items()}
    assert {name for name, s in status.items() if s == "graded"} == {"anna", "boris", "gleb", "ilya", "vera"}
    assert status["dina"].startswith("rejected: ") and "outside the submission's folder" in status["dina"]
    assert status["egor"] == "rejected: no layers.py found (expected a folder laid out like student_impl/: " \
                             "layers.py and classifiers/cnn.py)"
    assert status["zhanna"].startswith("grading failed: the grader could not run (exit 2)")
    full = str(float(len(PARTS) - len(OPTIONAL_PARTS)))
    assert rows["anna"]["total"] == rows["vera"]["total"] == rows["gleb"]["total"] == str(len(PARTS))
    assert rows["anna"]["max_required"] == full.removesuffix(".0")
    # The required points and the bonus apart: a bonus never hides a missing required part.
    assert rows["anna"]["required"] == full.removesuffix(".0")
    assert rows["anna"]["bonus"] == str(len(OPTIONAL_PARTS))
    assert rows["boris"]["conv_forward_naive"] == "1" and rows["boris"]["conv_backward_naive"] == "0"
    assert rows["boris"]["total"] == "1"
    assert rows["egor"]["total"] == "0" and rows["egor"]["conv_forward_naive"] == ""
    # Every submission has a results.json; the ones not graded say why, with score 0.
    for name in rows:
        assert json.loads((out / name / "results.json").read_text(encoding="utf-8"))["score"] >= 0
    dina = json.loads((out / "dina" / "results.json").read_text(encoding="utf-8"))
    assert dina["score"] == 0 and "outside the submission's folder" in dina["output"]
    assert (out / "gleb" / "problems.txt").read_text(encoding="utf-8") == \
        "layers.py was not UTF-8: re-encoded from cp1251\n"
    assert "syntax error at line 1" in (out / "ilya" / "problems.txt").read_text(encoding="utf-8")
    assert not (out / "anna" / "problems.txt").exists()
    assert not (tmp_path / "escape.py").exists() and not (out / "escape.py").exists()
    assert sorted(fake_grader.calls()) == ["anna", "boris", "gleb", "ilya", "vera", "zhanna"]


def test_a_rerun_grades_only_what_is_new_changed_or_failed(tmp_path, fake_grader):
    subs, out = messy_class(tmp_path / "subs"), tmp_path / "out"
    run_batch(subs, out, fake_grader, jobs=2, progress=False)
    first = (out / "gradebook.csv").read_bytes()
    graded_first = len(fake_grader.calls())

    summary = run_batch(subs, out, fake_grader, jobs=2, progress=False)
    assert fake_grader.calls()[graded_first:] == ["zhanna"], "only the failed grading is retried"
    assert summary.skipped == 7
    assert (out / "gradebook.csv").read_bytes() == first

    # A new submission, and a changed one whose files keep their old timestamps (as unzipping does).
    write_tree(subs / "yana", {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    layers = subs / "boris" / "hw3" / "student_impl" / "layers.py"
    stamp = layers.stat()
    layers.write_text(ALL_LAYERS)
    os.utime(layers, ns=(stamp.st_atime_ns, stamp.st_mtime_ns - 10**9))
    calls = len(fake_grader.calls())
    run_batch(subs, out, fake_grader, jobs=2, progress=False)
    assert sorted(fake_grader.calls()[calls:]) == ["boris", "yana", "zhanna"]
    assert read_gradebook(out / "gradebook.csv")["boris"]["total"] == str(len(PARTS) - 1)  # cnn.py is empty

    calls = len(fake_grader.calls())
    run_batch(subs, out, fake_grader, jobs=2, force=True, progress=False)
    assert len(fake_grader.calls()) - calls == 7  # everything but the two rejected


def test_a_hanging_grading_is_killed_with_everything_it_started(tmp_path, fake_grader):
    subs = tmp_path / "subs"
    write_tree(subs / "slow", {"layers.py": "# FAKE: hang\n", "classifiers/cnn.py": MODEL})
    write_tree(subs / "quick", {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    write_tree(subs / "silent", {"layers.py": "# FAKE: no results\n", "classifiers/cnn.py": MODEL})
    fake_grader.wall_clock = 3
    started = time.monotonic()
    run_batch(subs, tmp_path / "out", fake_grader, jobs=2, progress=False)
    assert time.monotonic() - started < 20
    rows = read_gradebook(tmp_path / "out" / "gradebook.csv")
    assert rows["slow"]["status"] == "grading failed: stopped after 3 s (the wall-clock cap); see grade.log"
    assert rows["silent"]["status"] == "grading failed: the grader wrote no valid results.json (exit 0); see grade.log"
    assert rows["quick"]["status"] == "graded"
    if os.name == "posix":
        for pid in map(int, (tmp_path / "out" / "slow" / "pids").read_text().split()):
            assert not alive_after(pid, seconds=10)


def alive_after(pid, seconds):
    """Whether a process still runs after waiting up to ``seconds`` for a kill to take effect."""
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pid)


def alive(pid):
    """Whether a process runs (a zombie no longer does: an orphan waits for init to reap it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_submissions_are_named_after_their_entries(tmp_path):
    subs = tmp_path / "subs"
    for name in ("b", "a", ".git", "__MACOSX", "out"):
        (subs / name).mkdir(parents=True)
    for name in ("c.zip", "b.zip", "notes.txt", ".DS_Store"):
        (subs / name).write_bytes(b"")
    found = find_submissions(subs, out=subs / "out")
    assert [(s.name, s.path.name) for s in found] == [
        ("a", "a"), ("b", "b"), ("b.zip", "b.zip"), ("c", "c.zip"), ("notes.txt", "notes.txt")]


def test_shards_split_the_class_without_overlap_in_a_stable_order():
    names = [f"student{i:02d}" for i in range(10)]
    shares = [Shard.parse(f"{i}/3").select(names) for i in (1, 2, 3)]
    assert shares[0] == ["student00", "student03", "student06", "student09"]
    assert sorted(sum(shares, [])) == names
    assert Shard(2, 3).gradebook_name == "gradebook-shard-2-of-3.csv"
    for bad in ("0/3", "4/3", "1", "a/b", "1/0"):
        with pytest.raises(ValueError):
            Shard.parse(bad)


def test_sharded_gradebooks_merge_into_the_unsharded_one(tmp_path, fake_grader):
    subs = messy_class(tmp_path / "subs")
    run_batch(subs, tmp_path / "whole", fake_grader, jobs=2, progress=False)
    shard_files = []
    for index in (1, 2, 3):
        shard = Shard(index, 3)
        run_batch(subs, tmp_path / f"machine{index}", fake_grader, jobs=2, shard=shard, progress=False)
        shard_files.append(tmp_path / f"machine{index}" / shard.gradebook_name)
    assert not (tmp_path / "machine1" / "gradebook.csv").exists()
    merged = tmp_path / "merged.csv"
    run = subprocess.run([sys.executable, "-m", "convgrader", "merge-gradebooks", *map(str, shard_files),
                          "-o", str(merged)], cwd=PROJECT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert read_gradebook(merged) == read_gradebook(tmp_path / "whole" / "gradebook.csv")


def test_merging_refuses_conflicts_and_missing_shards(tmp_path):
    def gradebook(name, rows):
        path = tmp_path / name
        batch.write_gradebook([{**dict.fromkeys(COLUMNS, ""), **row} for row in rows], path)
        return path

    one = gradebook("gradebook-shard-1-of-2.csv", [{"submission": "b", "total": "3"}, {"submission": "a"}])
    two = gradebook("gradebook-shard-2-of-2.csv", [{"submission": "c", "total": "1"}])
    clash = gradebook("gradebook-shard-2-of-2-again.csv", [{"submission": "b", "total": "4"}])
    _, rows = merge_gradebooks([two, one])
    assert [row["submission"] for row in rows] == ["a", "b", "c"]
    with pytest.raises(MergeError, match="'b' has different results"):
        merge_gradebooks([one, two, clash])
    with pytest.raises(MergeError, match=r"shard\(s\) 2 of 2 missing"):
        merge_gradebooks([one])
    assert len(merge_gradebooks([one], allow_missing=True)[1]) == 2
    assert len(merge_gradebooks([one, one, two])[1]) == 3  # the same row twice is no conflict


def test_the_grade_command_line_passes_options_on():
    argv = batch.grade_argv(Path("/o/x/submission"), Path("/o/x/results.json"), hidden=True, time_limit=90,
                            extra=["-k", "conv_forward"])
    assert argv[1:] == ["-m", "convgrader", "grade", "--impl", "/o/x/submission", "--results", "/o/x/results.json",
                        "--html", "/o/x/report.html", "--hidden", "--time-limit", "90", "-k", "conv_forward"]


def _grade_writes_results():
    run = subprocess.run([sys.executable, "-m", "convgrader", "grade", "--help"], cwd=PROJECT,
                         capture_output=True, text=True)
    return "--results" in run.stdout


def answer_key_submission(folder):
    """A submission holding a copy of the answer key's sources (importing it would count as tampering)."""
    key = PROJECT / "answer_key"
    return write_tree(folder, {f"student_impl/{name}": (key / name).read_text(encoding="utf-8")
                               for name in ("layers.py", "classifiers/cnn.py")})


@pytest.mark.skipif(not _grade_writes_results(), reason="`grade --results` has not landed yet")
def test_the_batch_command_grades_for_real(tmp_path):
    subs = tmp_path / "subs"
    answer_key_submission(subs / "key")
    write_tree(subs / "skeleton", {name: (PROJECT / "student_impl" / name).read_text(encoding="utf-8")
                                   for name in ("layers.py", "classifiers/cnn.py")})
    write_zip(subs / "empty.zip", {"readme.txt": "forgot the code"})
    out = tmp_path / "out"
    command = [sys.executable, "-m", "convgrader", "batch", str(subs), "--out", str(out), "--jobs", "2",
               "-k", "conv_forward"]
    if isolation.available_level() != isolation.NAMESPACES:
        command.insert(-2, "--allow-weak-isolation")  # no bubblewrap here: what a CI runner without it must say
    run = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    rows = read_gradebook(out / "gradebook.csv")
    assert rows["empty"]["status"].startswith("rejected: no layers.py found")
    assert rows["key"]["status"] == rows["skeleton"]["status"] == "graded"
    assert float(rows["key"]["conv_forward_naive"]) > 0
    assert float(rows["skeleton"]["conv_forward_naive"]) == 0
    assert float(rows["key"]["total"]) > float(rows["skeleton"]["total"])
    results = json.loads((out / "key" / "results.json").read_text(encoding="utf-8"))
    assert set(results["extra_data"]["parts"]) <= set(PARTS)
    assert results["extra_data"]["isolation"] == isolation.available_level()
    assert (out / "key" / "report.html").is_file() and not (out / "empty" / "report.html").exists()
    again = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert "3 skipped (unchanged since the last batch)" in again.stdout


def test_a_row_shows_tampering_and_leaves_unknown_numbers_blank():
    results = {"score": 0.0, "max_score": 100.0, "extra_data": {
        "parts": {"conv_forward_naive": {"score": 0.0, "max_score": 12.0, "passed": 0, "total": 11}},
        "bonus_parts": ["spatial_groupnorm_forward"], "tampering": ["import of answer_key"]}}
    row = to_csv_row(from_results_json(results), "mallory")
    assert row["status"] == "graded: tampering detected (import of answer_key)"
    assert (row["total"], row["max_required"], row["conv_forward_naive"], row["max_pool_forward_naive"], row["bonus"]) \
        == ("0", "100", "0", "", "0")


def test_a_failed_grading_is_no_zero_and_the_next_run_retries_it(tmp_path, fake_grader):
    subs, out = tmp_path / "subs", tmp_path / "out"
    write_tree(subs / "anna", {"layers.py": "# FAKE: grading failed\n", "classifiers/cnn.py": MODEL})
    write_tree(subs / "boris", {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    run_batch(subs, out, fake_grader, progress=False, level="namespaces")
    rows = read_gradebook(out / "gradebook.csv")
    assert rows["anna"]["status"] == "grading failed: the sandbox's start crashed with SIGKILL; see grade.log"
    assert rows["anna"]["total"] == "" and rows["anna"]["conv_forward_naive"] == ""
    report = from_results_json(json.loads((out / "anna" / "results.json").read_text(encoding="utf-8")))
    assert report.status == "grading failed" and report.isolation == "namespaces"
    assert from_results_json(json.loads((out / "boris" / "results.json").read_text())).isolation == "namespaces"
    (subs / "anna" / "layers.py").write_text(ALL_LAYERS)  # say the machine is no longer overloaded
    calls = len(fake_grader.calls())
    run_batch(subs, out, fake_grader, progress=False)
    assert fake_grader.calls()[calls:] == ["anna"]
    assert read_gradebook(out / "gradebook.csv")["anna"]["status"] == "graded"


def test_a_formula_as_a_submission_name_stays_text(tmp_path, fake_grader):
    subs, out = tmp_path / "subs", tmp_path / "out"
    name = '=HYPERLINK("http:evil","x")'
    write_tree(subs / name, {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    run_batch(subs, out, fake_grader, progress=False)
    rows = read_gradebook(out / "gradebook.csv")
    assert list(rows) == ["'" + name]
    assert from_csv_row(rows["'" + name])[0] == name


KILLABLE_BATCH = textwrap.dedent('''
    import sys
    from pathlib import Path
    from convgrader.course.batch import Grader, become_subreaper, run_batch

    script, subs, out, calls = sys.argv[1:]
    grader = Grader(lambda impl, results: [sys.executable, script, str(impl), str(results), calls], wall_clock=120,
                    reap_orphans=become_subreaper())
    run_batch(Path(subs), Path(out), grader, jobs=1, progress=False)
''')


def test_a_killed_batch_keeps_its_finished_rows_and_a_rerun_completes(tmp_path, fake_grader):
    subs, out = tmp_path / "subs", tmp_path / "out"
    for name in ("a", "b"):
        write_tree(subs / name, {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    write_tree(subs / "c", {"layers.py": "# FAKE: slow\n" + ALL_LAYERS, "classifiers/cnn.py": MODEL})
    driver = tmp_path / "driver.py"
    driver.write_text(KILLABLE_BATCH)
    process = subprocess.Popen([sys.executable, str(driver), str(tmp_path / "fake_grade.py"), str(subs), str(out),
                                str(tmp_path / "calls.log")], cwd=PROJECT, start_new_session=True,
                               env=dict(os.environ, PYTHONPATH=str(PROJECT)))
    try:
        deadline = time.monotonic() + 120
        while "c" not in fake_grader.calls() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "c" in fake_grader.calls(), "the batch never reached the slow submission"
    finally:
        os.killpg(process.pid, 9)
        process.wait()
    rows = read_gradebook(out / "gradebook.csv")
    assert {name: row["status"] for name, row in rows.items()} == {"a": "graded", "b": "graded"}
    (subs / "c" / "layers.py").write_text(ALL_LAYERS)
    summary = run_batch(subs, out, fake_grader, progress=False)
    assert fake_grader.calls() == ["a", "b", "c", "c"] and summary.skipped == 2
    assert [row["status"] for row in read_gradebook(out / "gradebook.csv").values()] == ["graded"] * 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="subreapers are Linux's")
def test_nothing_a_grading_leaves_behind_outlives_it_or_rewrites_its_report(tmp_path, fake_grader):
    subs, out = tmp_path / "subs", tmp_path / "out"
    write_tree(subs / "mallory", {"layers.py": "# FAKE: daemon\n" + ALL_LAYERS, "classifiers/cnn.py": MODEL})
    driver = tmp_path / "driver.py"
    driver.write_text(KILLABLE_BATCH)
    subprocess.run([sys.executable, str(driver), str(tmp_path / "fake_grade.py"), str(subs), str(out),
                    str(tmp_path / "calls.log")], cwd=PROJECT, env=dict(os.environ, PYTHONPATH=str(PROJECT)),
                   check=True, timeout=120)
    daemon = int((out / "daemon.pid").read_text())
    assert not alive_after(daemon, seconds=1), "the background process outlived the batch"
    time.sleep(4)  # past the moment it meant to forge the report
    report = from_results_json(json.loads((out / "mallory" / "results.json").read_text(encoding="utf-8")))
    assert report.status == "graded" and report.score == len(PARTS)


def test_weak_isolation_is_refused_unless_allowed(tmp_path, monkeypatch, capsys):
    from convgrader import cli
    from convgrader.running import isolation

    write_tree(tmp_path / "subs" / "anna", {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    monkeypatch.setattr(isolation, "available_level", lambda: isolation.PROCESS)
    monkeypatch.setattr(batch, "run_batch", lambda *args, **kwargs: pytest.fail("graded without OS isolation"))
    status = cli.main(["batch", str(tmp_path / "subs"), "--out", str(tmp_path / "out")])
    assert status == 2
    assert "--allow-weak-isolation" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

    seen = {}
    monkeypatch.setattr(batch, "run_batch", lambda *args, **kwargs: seen.update(kwargs) or batch.BatchSummary(
        tmp_path / "gradebook.csv", [], 0, 0))
    assert cli.main(["batch", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--allow-weak-isolation"]) == 0
    assert seen["level"] == "process" and seen["watch"], "weak isolation: the harness is watched"


def test_a_changed_harness_stops_the_batch_naming_the_file(tmp_path, fake_grader):
    subs, out, harness = tmp_path / "subs", tmp_path / "out", tmp_path / "harness"
    write_tree(harness, {"convgrader/judging/compare.py": "x = 1\n", "convgrader/__pycache__/compare.pyc": "b"})
    sitecustomize = tmp_path / "site" / "sitecustomize.py"
    write_tree(tmp_path / "site", {"sitecustomize.py": "", "evil.pth": ""})
    write_tree(subs / "a", {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    target = harness / "convgrader" / "__pycache__" / "compare.pyc"
    write_tree(subs / "b", {"layers.py": f"# FAKE: write {target}\n" + ALL_LAYERS, "classifiers/cnn.py": MODEL})
    write_tree(subs / "c", {"layers.py": ALL_LAYERS, "classifiers/cnn.py": MODEL})
    with pytest.raises(batch.HarnessChanged, match=f"changed {target}"):
        run_batch(subs, out, fake_grader, progress=False, level="process",
                  watch=[harness, sitecustomize, tmp_path / "site" / "evil.pth"])
    assert fake_grader.calls() == ["a", "b"], "the batch stopped after the submission that changed it"
    rows = read_gradebook(out / "gradebook.csv")
    assert rows["a"]["status"] == "graded"
    assert rows["b"]["status"].startswith(f"grading failed: the harness changed while it was graded (changed {target}")
    assert "c" not in rows

    before = batch.harness_fingerprint([harness, sitecustomize])
    sitecustomize.write_text("import os")
    (harness / "new.py").write_text("")
    assert batch.fingerprint_changes(before, batch.harness_fingerprint([harness, sitecustomize])) == \
        [f"changed {sitecustomize}", f"added {harness / 'new.py'}"]


def test_the_watched_harness_includes_its_bytecode_and_site_hooks():
    roots = batch.harness_roots()
    assert PROJECT / "convgrader" in roots and PROJECT / "tests" / "graded" in roots
    assert any(root.name.endswith(".pth") or root.stem == "sitecustomize" for root in roots)


def test_every_grading_of_a_batch_speaks_the_class_language(tmp_path):
    """batch --lang hands the one language to every grading, whatever the grading process's locale."""
    from convgrader.course.batch import grade_argv

    argv = grade_argv(tmp_path / "impl", tmp_path / "results.json", lang="ru")
    assert argv[argv.index("--lang") + 1] == "ru"
    assert "--lang" not in grade_argv(tmp_path / "impl", tmp_path / "results.json")
