"""Turning a submission as it arrives (a folder or a .zip) into a clean folder laid out like student_impl/.

Submissions arrive messy: the graded folder nested one or two levels deep,
``__MACOSX`` and ``.DS_Store`` litter, sources saved in cp1251 by an editor
on Russian Windows, and now and then an archive that would write outside its
folder or expand to gigabytes. :func:`normalize` copies only the Python
sources of the folder that holds ``layers.py``, re-encoded to UTF-8, and
either returns the notes worth telling the instructor or raises
:class:`SubmissionRejected` with a reason one line long.

Nothing here imports or runs the submission's code.
"""

import codecs
import contextlib
import errno
import re
import shutil
import os
import stat
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from convgrader.assignment import BY_NAME, LAYER_FUNCTIONS, MODEL_CLASS
from convgrader.messages import say
from convgrader.untrusted import shown_name

#: Entries that are never part of a submission: macOS resource forks and Finder
#: files, bytecode caches, version-control folders.
JUNK_NAMES = {"__MACOSX", ".DS_Store", "__pycache__", ".git", ".ipynb_checkpoints", "Thumbs.db"}
#: The files of a submission: the layer functions' file, which locates it, and the model's.
LAYERS = BY_NAME[LAYER_FUNCTIONS[0]].file
MODEL = BY_NAME[MODEL_CLASS].file
# PEP 263: an encoding declaration is a comment on line 1 or 2 matching this.
CODING_LINE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
# Tried in order for a source that is not valid UTF-8: cp1251 is what Russian
# Windows editors save; latin-1 decodes any bytes, so it always ends the search.
FALLBACK_ENCODINGS = ("cp1251", "latin-1")
MEGABYTE = 2 ** 20
#: Why a file system refuses a name or a place that the upload chose (any other error is the machine's).
REFUSED_BY_NAME = frozenset({errno.ENAMETOOLONG, errno.EEXIST, errno.ENOTDIR, errno.EISDIR, errno.EILSEQ,
                             errno.EINVAL})


class SubmissionRejected(Exception):
    """The submission cannot be graded; ``str(error)`` says why in one line."""


@dataclass(frozen=True)
class Limits:
    """What one submission may hold.

    Attributes
    ----------
    max_bytes : int
        Total uncompressed size of the Python sources taken from it.
    max_members : int
        Entries in a .zip archive or a folder (files and folders, junk included).
    max_depth : int
        Folders a file may be nested in; deeper files are left out (noted).
    """

    max_bytes: int = 50 * MEGABYTE
    max_members: int = 10_000
    max_depth: int = 32


def normalize(source, destination, limits=Limits()):
    """Copy the graded sources of ``source`` into ``destination``, laid out like student_impl/.

    Parameters
    ----------
    source : pathlib.Path
        The submission: a folder, or a ``.zip`` archive.
    destination : pathlib.Path
        A folder that must not exist yet; it receives ``layers.py``,
        ``classifiers/cnn.py`` and the other ``.py`` files next to them,
        UTF-8 encoded.
    limits : Limits, optional
        Size caps (50 MB of sources and 10,000 archive entries by default).

    Returns
    -------
    list of str
        Notes for the instructor (re-encoded files, ignored files, a missing
        model, a syntax error), one line each; empty when all was well.

    Raises
    ------
    SubmissionRejected
        When the submission is unsafe (a path escaping its folder, a symbolic
        link in an archive, more than the limits allow), unreadable, or holds
        no ``layers.py``.
    """
    with contextlib.ExitStack() as open_archive:
        files, notes = _listed_files(Path(source), limits, open_archive)
        try:
            return _copy_sources(files, notes, destination, limits)
        except SubmissionRejected:
            shutil.rmtree(destination, ignore_errors=True)  # no half-copied submission is left to grade
            raise


def _copy_sources(files, notes, destination, limits):
    root = _graded_root(files, notes)
    budget = _Budget(limits.max_bytes)
    destination.mkdir(parents=True)
    for path in sorted(files):
        relative = _relative_to(path, root)
        if relative is None or relative.suffix != ".py":
            continue
        if len(relative.parts) > limits.max_depth:
            notes.append(say("upload_too_deep", name=shown_name(str(relative)), depth=limits.max_depth))
            continue
        text, note = _decoded_source(budget.take(files[path]), relative)
        if note:
            notes.append(note)
        try:
            _write_source(destination, relative, text)
        except OSError as error:
            if error.errno not in REFUSED_BY_NAME:
                raise  # a full disk, a permission: the machine's fault, never a note against the student
            notes.append(say("upload_unwritable", name=shown_name(str(relative)), reason=error.strerror))
            continue
        notes.extend(_syntax_note(text, relative))
    if not (destination / MODEL).exists():
        notes.append(say("upload_no_model", model=MODEL, layers=LAYERS))
    return notes


def _write_source(destination, relative, text):
    """Write one source under ``destination``; OSError when the file system refuses its name or place.

    A file and a folder of one name (``cnn.py`` and ``cnn.py/x.py``) give
    EEXIST or ENOTDIR for the second; a name past the file system's limit
    ENAMETOOLONG.
    """
    target = destination.joinpath(*relative.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", newline="")


# --- listing a submission: relative POSIX path -> a way to read its bytes ---

def is_junk(parts):
    """Whether a path (its parts) is litter no submission means to hand in."""
    return any(part in JUNK_NAMES or part.startswith("._") for part in parts)


def _folder_files(folder, limits=Limits()):
    """The regular files under ``folder`` (junk left out); symbolic links are skipped with a note.

    Raises
    ------
    SubmissionRejected
        When the folder holds more than ``limits.max_members`` entries.
    """
    files, notes = {}, []
    for relative, entry in walk(folder, limits):
        if entry.is_symlink():
            notes.append(say("upload_symlink_skipped", name=shown_name(str(relative))))
        elif entry.is_file(follow_symlinks=False):
            files[relative] = _FileReader(Path(entry.path))
    return files, notes


def walk(folder, limits=Limits()):
    """``(relative POSIX path, os.DirEntry)`` of every entry under ``folder`` but junk, in name order.

    Iterative (a tree of any depth costs no recursion), never follows a
    symbolic link, and does not descend below ``limits.max_depth`` folders
    (a deeper file is left out: no submission nests its sources that far).
    Unreadable folders are passed over.

    Raises
    ------
    SubmissionRejected
        When there are more than ``limits.max_members`` entries.
    """
    seen = 0
    pending = [(PurePosixPath(), os.fspath(folder))]
    while pending:
        here, path = pending.pop()
        try:
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            continue
        seen += len(entries)
        if seen > limits.max_members:
            raise SubmissionRejected(say("upload_too_many_entries", count=limits.max_members))
        folders = []
        for entry in entries:
            if is_junk([entry.name]):
                continue
            relative = here / entry.name
            yield relative, entry
            if entry.is_dir(follow_symlinks=False) and len(relative.parts) < limits.max_depth:
                folders.append((relative, entry.path))
        pending.extend(reversed(folders))


def _open_zip(archive_path):
    try:
        return zipfile.ZipFile(archive_path)
    # zipfile raises more than BadZipFile on a crafted archive: a name flagged UTF-8 that is not
    # (UnicodeDecodeError), a truncated directory (EOFError), an unsupported feature.
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as error:
        raise SubmissionRejected(say("upload_bad_zip", name=shown_name(archive_path.name),
                                     error=shown_name(str(error)))) from None


def _listed_files(source, limits, open_archive, suffix=".py"):
    """``(files, notes)`` of a submission folder or ``.zip``: relative path -> reader, for :func:`normalize` and
    :func:`notebooks` alike (an archive is opened on ``open_archive``; of an archive only ``suffix`` files are kept).
    """
    if source.is_dir():
        return _folder_files(source, limits)
    if source.suffix.lower() == ".zip":
        return _zip_files(open_archive.enter_context(_open_zip(source)), limits, suffix)
    raise SubmissionRejected(say("upload_not_zip", name=shown_name(source.name)))


def _zip_files(archive, limits, suffix=".py"):
    """The ``suffix`` files of a .zip archive, after checking every entry is safe to extract."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise SubmissionRejected(say("upload_too_many_members", count=len(members), cap=limits.max_members))
    files, notes, ignored = {}, [], []
    for member in members:
        path = _safe_member_path(member)
        if member.is_dir() or is_junk(path.parts):
            continue
        if path.suffix == suffix:
            files[path] = _MemberReader(archive, member)
        else:
            ignored.append(shown_name(str(path)))
    declared = sum(reader.member.file_size for reader in files.values())
    if declared > limits.max_bytes:
        raise SubmissionRejected(say("upload_zip_bomb", size=declared / MEGABYTE, cap=limits.max_bytes / MEGABYTE))
    if ignored:
        shown = ", ".join(ignored[:5]) + (f" and {len(ignored) - 5} more" if len(ignored) > 5 else "")
        notes.append(say("upload_ignored", count=len(ignored), names=shown))
    return files, notes


def _safe_member_path(member):
    """The member's path, or rejection if extracting it could write outside the submission's folder."""
    name = member.filename.replace("\\", "/")  # some Windows tools write backslashes
    path = PurePosixPath(name)
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise SubmissionRejected(say("upload_absolute", name=shown_name(member.filename)))
    if ".." in path.parts:
        raise SubmissionRejected(say("upload_outside", name=shown_name(member.filename)))
    if stat.S_ISLNK(member.external_attr >> 16):
        raise SubmissionRejected(say("upload_zip_symlink", name=shown_name(member.filename)))
    return path


class _FileReader:
    def __init__(self, path):
        self.path = path

    def chunks(self):
        with open(self.path, "rb") as stream:
            yield from iter(lambda: stream.read(MEGABYTE), b"")


class _MemberReader:
    def __init__(self, archive, member):
        self.archive, self.member = archive, member

    def chunks(self):
        try:
            with self.archive.open(self.member) as stream:
                yield from iter(lambda: stream.read(MEGABYTE), b"")
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError, ValueError,
                zlib.error) as error:
            # A corrupt entry (zlib.error: invalid deflate data), an unsupported compression method, an
            # encrypted entry, a truncated one.
            raise SubmissionRejected(say("upload_entry_unreadable", name=shown_name(self.member.filename),
                                         error=shown_name(str(error)))) from None


class _Budget:
    """Counts the bytes actually read, so a lying archive is stopped as soon as it passes the cap."""

    def __init__(self, max_bytes):
        self.left = max_bytes
        self.max_bytes = max_bytes

    def take(self, reader):
        data = bytearray()
        for chunk in reader.chunks():
            self.left -= len(chunk)
            if self.left < 0:
                raise SubmissionRejected(say("upload_too_large", cap=self.max_bytes / MEGABYTE))
            data += chunk
        return bytes(data)


# --- choosing the graded folder ---

def _graded_root(files, notes):
    """The folder (relative path) that holds layers.py; prefer one with classifiers/cnn.py, then the shallowest."""
    candidates = [path.parent for path in files if path.name == LAYERS]
    if not candidates:
        raise SubmissionRejected(say("upload_no_layers", layers=LAYERS, model=MODEL))
    with_model = [folder for folder in candidates if folder / MODEL in files]
    ranked = sorted(with_model or candidates, key=lambda folder: (len(folder.parts), str(folder)))
    root = ranked[0]
    if len(candidates) > 1:
        listed = ", ".join(shown_name(str(folder / LAYERS)) for folder in sorted(candidates, key=str)[:10])
        notes.append(say("upload_several_layers", layers=LAYERS, names=listed, graded=shown_name(str(root / LAYERS))))
    return root


def _relative_to(path, root):
    try:
        return path.relative_to(root)
    except ValueError:
        return None


# --- re-encoding ---

def _decoded_source(data, relative):
    """Decode a Python source the way a grader on any machine should read it; return (text, note).

    The declared encoding is the student's text, so it is only tried: a codec
    that is no text encoding (``rot13``, ``zlib``), unknown, or that decodes to
    text UTF-8 cannot hold (lone surrogates from ``unicode_escape`` or
    ``utf-7``) is passed over like an encoding that does not fit the bytes.
    """
    note = None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    declared = _declared_encoding(data)
    for encoding in _encodings_to_try(declared):
        text = _decoded_as(data, encoding)
        if text is None:
            continue
        if _canonical(encoding) != "utf-8" and not text.isascii():
            note = say("upload_reencoded", name=shown_name(str(relative)), encoding=encoding)
        break
    if declared and _canonical(declared) != "utf-8":
        text = _without_coding_line(text)
    return text, note


def _decoded_as(data, encoding):
    """``data`` decoded with ``encoding`` as text UTF-8 can write, or None."""
    try:
        text = data.decode(encoding)
        text.encode("utf-8")
    except (UnicodeError, LookupError, ValueError, TypeError):  # what a stdlib codec raises on bytes it refuses
        return None
    return text


def _declared_encoding(data):
    for line in data.splitlines()[:2]:
        match = CODING_LINE.match(line)
        if match:
            return match.group(1).decode("ascii", "replace")
    return None


def _encodings_to_try(declared):
    known = [declared] if declared and _canonical(declared) else []
    return [*known, "utf-8", *FALLBACK_ENCODINGS]


def _canonical(encoding):
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return None


def _without_coding_line(text):
    """Blank the encoding declaration (the file is UTF-8 now), keeping line numbers as the student sees them."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines[:2]):
        if CODING_LINE.match(line.encode("utf-8")):
            lines[index] = "\n"
            break
    return "".join(lines)


def _syntax_note(text, relative):
    try:
        with warnings.catch_warnings():  # e.g. invalid escape sequences: not ours to report
            warnings.simplefilter("ignore")
            compile(text, str(relative), "exec", dont_inherit=True)
    except SyntaxError as error:
        return [say("upload_syntax_error", name=shown_name(str(relative)), line=error.lineno,
                    error=shown_name(str(error.msg)))]
    except (ValueError, RecursionError, MemoryError) as error:  # null bytes; nesting too deep for the parser
        return [say("upload_not_compilable", name=shown_name(str(relative)), error=type(error).__name__)]
    return []


# --- notebooks (read, never run) ---

NOTEBOOK_SUFFIX = ".ipynb"


def notebooks(source, limits=Limits()):
    """The notebooks a submission holds, read under the same rules as :func:`normalize`.

    Parameters
    ----------
    source : pathlib.Path
        The submission: a folder, or a ``.zip`` archive.
    limits : Limits, optional
        The same caps as :func:`normalize` (on the notebooks' bytes together).

    Returns
    -------
    dict of str to bytes
        Relative POSIX path of each ``.ipynb`` (junk and symbolic links left out) -> its bytes.

    Raises
    ------
    SubmissionRejected
        When the archive is unsafe or unreadable, or the notebooks exceed the limits.
    """
    with contextlib.ExitStack() as open_archive:
        files, _ = _listed_files(Path(source), limits, open_archive, suffix=NOTEBOOK_SUFFIX)
        budget = _Budget(limits.max_bytes)
        return {str(path): budget.take(reader) for path, reader in sorted(files.items())
                if path.suffix == NOTEBOOK_SUFFIX}
