"""Self-test: messy submissions become clean folders laid out like student_impl/, or a clear rejection.

Every messy submission is made here, in tmp_path: nested folders, macOS litter,
cp1251 sources, archives that escape their folder or expand past the cap.
"""

import os
import struct
import zipfile

import pytest

from tests.selftest.submission_files import write_tree, write_zip

from convgrader.course.submissions import Limits, SubmissionRejected, normalize

LAYERS = "def conv_forward_naive(x, w, b, conv_param):\n    return x, None\n"
MODEL = "class ThreeLayerConvNet:\n    pass\n"
CYRILLIC_COMMENT = "# Свёртка: наивная реализация, проверено вручную\n"


def listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_a_clean_folder_is_copied_as_is(tmp_path):
    source = write_tree(tmp_path / "alice", {"layers.py": LAYERS, "classifiers/cnn.py": MODEL})
    notes = normalize(source, tmp_path / "out")
    assert notes == []
    assert listing(tmp_path / "out") == ["classifiers/cnn.py", "layers.py"]
    assert (tmp_path / "out" / "layers.py").read_text() == LAYERS


def test_a_nested_folder_with_litter_keeps_only_the_sources_of_the_graded_folder(tmp_path):
    source = write_tree(tmp_path / "bob", {
        "hw3/student_impl/layers.py": LAYERS,
        "hw3/student_impl/classifiers/cnn.py": MODEL,
        "hw3/student_impl/classifiers/__init__.py": "",
        "hw3/student_impl/helpers.py": "TWO = 2\n",
        "hw3/student_impl/.DS_Store": b"\0\1\2",
        "hw3/student_impl/__pycache__/layers.cpython-311.pyc": b"\0" * 16,
        "hw3/ConvolutionalNetworks.ipynb": "{}",
        "hw3/notes.py": "# outside the graded folder\n",
    })
    assert normalize(source, tmp_path / "out") == []
    assert listing(tmp_path / "out") == ["classifiers/__init__.py", "classifiers/cnn.py", "helpers.py", "layers.py"]


def test_a_zip_with_macosx_entries_is_unpacked_without_them(tmp_path):
    archive = write_zip(tmp_path / "carol.zip", {
        "student_impl/layers.py": LAYERS,
        "student_impl/classifiers/cnn.py": MODEL,
        "__MACOSX/student_impl/._layers.py": b"\0\5\26\7 resource fork",
        "__MACOSX/student_impl/classifiers/._cnn.py": b"\0\5\26\7",
        "student_impl/._helpers.py": b"\0\5\26\7",
        "student_impl/.DS_Store": b"\0",
        "report.pdf": b"%PDF-1.4",
    })
    notes = normalize(archive, tmp_path / "out")
    assert listing(tmp_path / "out") == ["classifiers/cnn.py", "layers.py"]
    assert notes == ["ignored 1 file(s) that are not Python sources: report.pdf"]


def test_the_folder_that_also_holds_the_model_is_preferred(tmp_path):
    source = write_tree(tmp_path / "dan", {
        "backup/layers.py": "# old\n",
        "final/student_impl/layers.py": LAYERS,
        "final/student_impl/classifiers/cnn.py": MODEL,
    })
    notes = normalize(source, tmp_path / "out")
    assert (tmp_path / "out" / "layers.py").read_text() == LAYERS
    assert any("several layers.py" in note and "graded final/student_impl/layers.py" in note for note in notes)


@pytest.mark.parametrize("declared", [True, False], ids=["with-coding-line", "without-coding-line"])
def test_cp1251_sources_are_re_encoded_to_utf8(tmp_path, declared):
    header = "# -*- coding: cp1251 -*-\n" if declared else ""
    text = header + CYRILLIC_COMMENT + LAYERS
    source = write_tree(tmp_path / "egor", {"layers.py": text.encode("cp1251"), "classifiers/cnn.py": MODEL})
    notes = normalize(source, tmp_path / "out")
    converted = (tmp_path / "out" / "layers.py").read_text(encoding="utf-8")
    assert CYRILLIC_COMMENT in converted
    assert "coding" not in converted  # a cp1251 declaration on a UTF-8 file would break the import
    assert converted.count("\n") == text.count("\n"), "line numbers must stay the student's"
    assert notes == ["layers.py was not UTF-8: re-encoded from cp1251"]
    compile(converted, "layers.py", "exec")


def test_a_utf8_bom_is_stripped_and_a_utf8_declaration_kept(tmp_path):
    text = "# coding: utf-8\n" + CYRILLIC_COMMENT + LAYERS
    source = write_tree(tmp_path / "fay", {"layers.py": b"\xef\xbb\xbf" + text.encode(), "classifiers/cnn.py": MODEL})
    assert normalize(source, tmp_path / "out") == []
    assert (tmp_path / "out" / "layers.py").read_bytes() == text.encode()


def test_a_broken_source_is_copied_with_a_note(tmp_path):
    source = write_tree(tmp_path / "gleb", {"layers.py": "def conv_forward_naive(x:\n", "classifiers/cnn.py": MODEL})
    notes = normalize(source, tmp_path / "out")
    assert (tmp_path / "out" / "layers.py").exists()
    assert len(notes) == 1 and notes[0].startswith("layers.py has a syntax error at line 1")


def test_a_missing_model_is_noted(tmp_path):
    source = write_tree(tmp_path / "hana", {"layers.py": LAYERS})
    assert normalize(source, tmp_path / "out") == ["no classifiers/cnn.py next to layers.py: the model's tests will fail"]


def test_a_folder_without_layers_is_rejected(tmp_path):
    source = write_tree(tmp_path / "ivan", {"hw/cnn.py": MODEL, "hw/README.md": "todo"})
    with pytest.raises(SubmissionRejected, match="no layers.py found"):
        normalize(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["../evil.py", "student_impl/../../evil.py", "/tmp/evil.py",
                                  "..\\evil.py", "C:/evil.py"])
def test_an_archive_writing_outside_its_folder_is_rejected(tmp_path, name):
    archive = write_zip(tmp_path / "zip-slip.zip", {"student_impl/layers.py": LAYERS, name: "print('pwned')\n"})
    with pytest.raises(SubmissionRejected, match="absolute path|outside the submission.s folder"):
        normalize(archive, tmp_path / "deep" / "out")
    assert not (tmp_path / "deep").exists()
    assert not (tmp_path / "evil.py").exists()


def test_an_archive_with_a_symbolic_link_is_rejected(tmp_path):
    archive_path = tmp_path / "link.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("student_impl/layers.py", LAYERS)
        link = zipfile.ZipInfo("student_impl/classifiers/cnn.py")
        link.external_attr = (0o120777 << 16)  # S_IFLNK
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(SubmissionRejected, match="symbolic link"):
        normalize(archive_path, tmp_path / "out")


def test_a_zip_bomb_is_rejected_before_it_is_unpacked(tmp_path):
    """200 MB of zeros in a ~200 KB archive, against the default cap of 50 MB."""
    archive_path = tmp_path / "bomb.zip"
    zeros = bytes(2 ** 20)
    with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("student_impl/classifiers/cnn.py", MODEL)
        with archive.open("student_impl/layers.py", "w", force_zip64=True) as member:
            for _ in range(200):
                member.write(zeros)
    assert archive_path.stat().st_size < 1_000_000
    with pytest.raises(SubmissionRejected, match=r"expand to 200 MB, more than the 50 MB allowed"):
        normalize(archive_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_zip_lying_about_its_sizes_is_stopped_while_reading(tmp_path):
    """Declared sizes say 1 KB; the data inflates to 5 MB: nothing past the declared size is kept."""
    archive_path = write_zip(tmp_path / "liar.zip", {"student_impl/layers.py": b"#" * (5 * 2 ** 20),
                                                     "student_impl/classifiers/cnn.py": MODEL})
    data = bytearray(archive_path.read_bytes())
    for signature, size_offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = data.find(signature)  # the first member is layers.py, in both headers
        struct.pack_into("<I", data, start + size_offset, 1024)
    archive_path.write_bytes(bytes(data))
    with pytest.raises(SubmissionRejected, match="cannot be read"):
        normalize(archive_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_reading_stops_at_the_byte_cap(tmp_path):
    """The running count of bytes read rejects a submission even when no size was declared (a folder)."""
    source = write_tree(tmp_path / "big", {"layers.py": LAYERS, "classifiers/cnn.py": MODEL,
                                           "data.py": "X = 0\n" * 400_000})
    with pytest.raises(SubmissionRejected, match="larger than the 1 MB allowed"):
        normalize(source, tmp_path / "out", Limits(max_bytes=2 ** 20))
    assert not (tmp_path / "out").exists()


def test_too_many_archive_entries_are_rejected(tmp_path):
    archive = write_zip(tmp_path / "many.zip", {f"student_impl/m{i}.py": "" for i in range(30)})
    with pytest.raises(SubmissionRejected, match="31 entries|30 entries"):
        normalize(archive, tmp_path / "out", Limits(max_members=20))


@pytest.mark.parametrize("content", [b"not a zip at all", b""], ids=["garbage", "empty"])
def test_an_unreadable_archive_is_rejected(tmp_path, content):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(content)
    with pytest.raises(SubmissionRejected, match="not a readable .zip archive"):
        normalize(archive, tmp_path / "out")


def test_other_archive_formats_are_rejected(tmp_path):
    archive = tmp_path / "jane.rar"
    archive.write_bytes(b"Rar!\x1a\x07\x00")
    with pytest.raises(SubmissionRejected, match="neither a folder nor a .zip"):
        normalize(archive, tmp_path / "out")


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need POSIX here")
def test_symbolic_links_in_a_folder_are_not_followed(tmp_path):
    secret = write_tree(tmp_path / "elsewhere", {"secret.py": "TOKEN = 1\n", "pkg/mod.py": ""})
    source = write_tree(tmp_path / "kim", {"layers.py": LAYERS, "classifiers/cnn.py": MODEL})
    (source / "secret.py").symlink_to(secret / "secret.py")
    (source / "pkg").symlink_to(secret / "pkg")
    notes = normalize(source, tmp_path / "out")
    assert listing(tmp_path / "out") == ["classifiers/cnn.py", "layers.py"]
    assert sorted(notes) == ["skipped symbolic link pkg", "skipped symbolic link secret.py"]
