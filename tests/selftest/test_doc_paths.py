"""Every file or folder of the project a document names exists.

Documents (README.md, README.ru.md, docs/*.md, and the docstrings and comments of
convgrader/) name the project's files in code spans and links: ``tests/graded/contract.py``,
``[threat model](threat-model.md)``. A name that no longer exists sends a reader nowhere, so
this test resolves each one: from the project root, or for a link from the document's folder.
Names with a placeholder (``<name>``, ``*``, ``NAME``, ``...``), the outputs of commands
(``graded/``, ``dist/``, ``OUT/``, which start with none of the project's folders) and the files
of docs/adding-a-part.md's worked example (a part named ``spatial_dropout``, for the reader to
create) are not paths of the project.
"""

import re

from convgrader.paths import PROJECT

#: Top-level names a project path starts with.
ROOTS = ("convgrader/", "tests/", "docs/", "fixtures/", "reference/", "student_impl/", "answer_key/",
         "notebooks/", "fast_ext/")
ROOT_FILES = ("tox.ini", "pyproject.toml", "setup.py", "conftest.py", "README.md", "README.ru.md", "LICENSE")
PLACEHOLDER = re.compile(r"[<>*{}$…]|\.\.\.|[A-Z]{3,}|NAME|\bN\b|spatial_dropout")
CODE_SPAN = re.compile(r"`([^`\s]+)`")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
DOCUMENT = re.compile(r"(?<![\w./-])([\w./-]+\.md)\b")


def documents():
    return [PROJECT / "README.md", PROJECT / "README.ru.md", *sorted((PROJECT / "docs").glob("*.md"))]


def named_paths(text):
    """The project paths a text names: in code spans, and (for Python sources) anywhere."""
    found = set()
    for span in CODE_SPAN.findall(text):
        span = span.split("::")[0].rstrip(".,:;)")
        if (span.startswith(ROOTS) or span in ROOT_FILES) and not PLACEHOLDER.search(span):
            found.add(span)
    return found


def test_every_path_a_document_names_exists():
    missing = []
    for document in documents():
        text = document.read_text(encoding="utf-8")
        for path in named_paths(text):
            if not (PROJECT / path).exists():
                missing.append(f"{document.relative_to(PROJECT)}: {path}")
        for link in LINK.findall(text):
            if "://" in link or link.startswith("mailto:") or PLACEHOLDER.search(link):
                continue
            if not (document.parent / link).exists():
                missing.append(f"{document.relative_to(PROJECT)}: link {link}")
    assert not missing, "documents name files that do not exist:\n" + "\n".join(sorted(missing))


def test_every_document_the_harness_cites_exists():
    """A document (``*.md``) that convgrader/'s docstrings, comments or messages cite exists."""
    missing = []
    for source in sorted((PROJECT / "convgrader").rglob("*.py")):
        text = source.read_text(encoding="utf-8")
        for path in set(DOCUMENT.findall(text)):
            path = path.rstrip(".,:;)")
            if PLACEHOLDER.search(path) or path.endswith("/"):
                continue
            candidates = [PROJECT / path, PROJECT / "docs" / path]
            if not any(candidate.exists() for candidate in candidates):
                missing.append(f"{source.relative_to(PROJECT)}: {path}")
    assert not missing, "the harness cites files that do not exist:\n" + "\n".join(sorted(missing))
