"""The ``similarity`` command: which submissions share their code, with each other and with known solutions.

``python -m convgrader similarity SUBMISSIONS --out DIR [--against FOLDER]``
reads every submission as ``batch`` does (a folder or a .zip each, nested
folders, notebooks' code cells too), compares every pair, and each submission
with every known solution in FOLDER (solutions an instructor collected from
public repositories, laid out the same way), and writes

- ``DIR/similarity.csv``: columns ``a``, ``b``, ``similarity`` (0 to 1), one row per
  pair at or above ``--floor``, highest first;
- ``DIR/similarity.html``: the same pairs ranked, each opening a side-by-side
  view of the two submissions with the matching fragments marked, in the
  instructor's language.

The engine is copydetect (winnowing over Pygments tokens, with identifiers and
strings abstracted away, so renamed variables and rewritten comments do not
hide a copy; the order of fingerprints does not matter, so reordered functions
do not either). The skeleton's own code (``student_impl/`` as released, and the
released notebook's code cells) is boilerplate: its fingerprints never count.
Two submissions' similarity is the larger of the two shares of each one's code
found in the other, so a copy padded with code of its own still ranks high.

A score is a lead for a person to read, never a verdict. Nothing here runs the
submissions' code; every name and every line shown goes through
:func:`convgrader.untrusted.shown` and HTML escaping.
"""

import argparse
import csv
import html
import io
import itertools
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convgrader import language, limits
from convgrader.course.batch import find_submissions, write_gradebook
from convgrader.course.release import python_sources
from convgrader.course.submissions import SubmissionRejected, normalize, notebooks
from convgrader.messages import say
from convgrader.paths import PROJECT
from convgrader.report import COLUMNS, escape_cell, unescape_cell
from convgrader.untrusted import shown, shown_name

#: The released skeleton and notebook: their code is everyone's and never counts.
SKELETON = PROJECT / "student_impl"
RELEASED_NOTEBOOK = PROJECT / "notebooks" / "convolutional_networks.ipynb"
#: Pairs below this similarity are left out of the CSV and the page.
FLOOR = 0.25
CSV_NAME, HTML_NAME = "similarity.csv", "similarity.html"


@dataclass
class Code:
    """One submission's (or known solution's) code as compared: its files joined, each under a header line."""

    name: str
    text: str
    known: bool = False


@dataclass
class Match:
    """Two codes, how similar they are, and where: ``(starts, ends)`` character spans in each text."""

    a: Code
    b: Code
    similarity: float
    spans_a: np.ndarray = field(repr=False)
    spans_b: np.ndarray = field(repr=False)


# -- reading ----------------------------------------------------------------------------------------

def joined_code(sources):
    """Files (relative name -> text) as one text, each under a ``# ---- name ----`` line."""
    return "".join(f"# ---- {shown_name(name)} ----\n{text.rstrip()}\n\n" for name, text in sources.items())


def notebook_code(source):
    """The code cells of every notebook in a submission (folder or .zip), by notebook."""
    return {name: "\n\n".join(python_sources(name, data)) for name, data in notebooks(source).items()}


def read_code(name, source, folder, known=False):
    """A submission's :class:`Code` (its normalized .py files, then its notebooks' code cells).

    ``folder`` (not existing yet) receives the normalized sources.

    Raises
    ------
    SubmissionRejected
        When it holds neither Python sources nor notebooks (or its archive is unsafe).
    """
    sources = {}
    try:
        normalize(source, folder)
        sources.update((path.relative_to(folder).as_posix(), path.read_text(encoding="utf-8"))
                       for path in sorted(folder.rglob("*.py")))
    except SubmissionRejected:
        pass  # a notebook alone is still worth comparing
    sources.update(notebook_code(source))
    if not any(text.strip() for text in sources.values()):
        raise SubmissionRejected("no Python source or notebook found")
    return Code(name, joined_code(sources), known)


def skeleton_code():
    """The released skeleton's files and notebook, joined as a submission's are."""
    sources = {path.relative_to(SKELETON).as_posix(): path.read_text(encoding="utf-8")
               for path in sorted(SKELETON.rglob("*.py"))}
    if RELEASED_NOTEBOOK.exists():
        sources[RELEASED_NOTEBOOK.name] = "\n\n".join(
            python_sources(RELEASED_NOTEBOOK.name, RELEASED_NOTEBOOK.read_bytes()))
    return joined_code(sources)


def read_folder(folder, scratch, known=False, out=None):
    """Every submission in ``folder`` as ``batch`` finds them: (codes, {name: why it was left out})."""
    codes, skipped = [], {}
    for index, submission in enumerate(find_submissions(folder, out)):
        try:  # numbered folders: a submission's name never becomes a path here
            codes.append(read_code(submission.name, submission.path,
                                   Path(scratch) / ("known" if known else "class") / str(index), known))
        except SubmissionRejected as error:
            skipped[submission.name] = str(error)
    return codes, skipped


# -- comparing (copydetect) -----------------------------------------------------------------------

def fingerprints(codes, boilerplate):
    """copydetect's fingerprint of each code, with the boilerplate's fingerprints taken out."""
    # Imported here: copydetect is the instructor extra's, and every command's --help must work without it.
    from copydetect import CodeFingerprint, defaults

    k = defaults.NOISE_THRESHOLD
    window = defaults.GUARANTEE_THRESHOLD - defaults.NOISE_THRESHOLD + 1

    def of(name, text, removed=None):
        return CodeFingerprint(f"{name}.py", k, window, boilerplate=removed, fp=io.StringIO(text),
                               language="python")
    removed = np.array(sorted(of("skeleton", boilerplate).hashes), dtype=np.int64)
    return [of(str(index), code.text, removed) for index, code in enumerate(codes)]


def compare(codes, boilerplate):
    """Every pair to compare (two students, or a student and a known solution), as :class:`Match` objects."""
    from copydetect import compare_files

    prints = fingerprints(codes, boilerplate)
    matches = []
    for (i, a), (j, b) in itertools.combinations(enumerate(codes), 2):
        if a.known and b.known:
            continue
        if a.known:
            (i, a), (j, b) = (j, b), (i, a)
        _, shares, (spans_a, spans_b) = compare_files(prints[i], prints[j])
        similarity = float(np.clip(max(shares), 0.0, 1.0))
        matches.append(Match(a, b, similarity, np.asarray(spans_a, dtype=int).reshape(2, -1),
                             np.asarray(spans_b, dtype=int).reshape(2, -1)))
    return sorted(matches, key=lambda m: (-m.similarity, m.a.name, m.b.name))


# -- writing ------------------------------------------------------------------------------------

def label(code):
    """How reports name a code: its name, a known solution's prefixed with ``known:``."""
    return f"known:{shown_name(code.name)}" if code.known else shown_name(code.name)


def write_csv(matches, path):
    with open(path, "w", newline="", encoding="utf-8-sig") as stream:
        writer = csv.writer(stream)
        writer.writerow(("a", "b", "similarity"))
        for match in matches:
            writer.writerow((escape_cell(label(match.a)), escape_cell(label(match.b)), f"{match.similarity:.3f}"))


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
.lead { background: #fff8e1; padding: 0.6em 0.9em; max-width: 60em; }
details { border-top: 1px solid #ddd; padding: 0.3em 0; }
summary { cursor: pointer; font-variant-numeric: tabular-nums; }
summary .score { display: inline-block; width: 4em; font-weight: bold; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
pre { background: #f6f8fa; padding: 0.6em; font-size: 0.8em; white-space: pre-wrap; overflow-x: auto; }
mark { background: #ffd7d5; }
"""


def marked(text, spans):
    """``text`` as HTML with the character spans ``(starts, ends)`` in ``<mark>``, every piece made safe."""
    pieces, at = [], 0
    for start, end in zip(*spans):
        start, end = max(int(start), at), min(int(end), len(text))
        if end <= start:
            continue
        pieces += [_safe(text[at:start]), "<mark>", _safe(text[start:end]), "</mark>"]
        at = end
    pieces.append(_safe(text[at:]))
    return "".join(pieces)


def _safe(text):
    return html.escape(shown(text, limit=None), quote=True)


def page(matches, skipped, shown_pairs=limits.SIMILARITY_PAIRS_SHOWN):
    """The whole report page, in the current language."""
    body = [f"<h1>{_safe(say('similarity_title'))}</h1>",
            f"<p class=\"lead\">{_safe(say('similarity_lead'))}</p>",
            f"<p>{_safe(say('similarity_legend', count=len(matches)))}</p>"]
    for rank, match in enumerate(matches[:shown_pairs], 1):
        body.append(
            f"<details id=\"pair-{rank}\"><summary><span class=\"score\">{match.similarity:.3f}</span> "
            f"{rank}. {_safe(label(match.a))} &harr; {_safe(label(match.b))}</summary><div class=\"side\">"
            f"<div><h4>{_safe(label(match.a))}</h4><pre>{marked(match.a.text, match.spans_a)}</pre></div>"
            f"<div><h4>{_safe(label(match.b))}</h4><pre>{marked(match.b.text, match.spans_b)}</pre></div>"
            "</div></details>")
    if len(matches) > shown_pairs:
        body.append(f"<p>{_safe(say('similarity_more', count=len(matches) - shown_pairs))}</p>")
    if skipped:
        body.append(f"<h2>{_safe(say('similarity_skipped'))}</h2><ul>"
                    + "".join(f"<li>{_safe(shown_name(name))}: {_safe(reason)}</li>"
                              for name, reason in sorted(skipped.items())) + "</ul>")
    return (f"<!DOCTYPE html>\n<html lang=\"{language.current()}\"><head><meta charset=\"utf-8\">"
            f"<title>{_safe(say('similarity_title'))}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def best_matches(matches):
    """Each submission's highest match: {name: (similarity, the other's label)}."""
    best = {}
    for match in matches:  # highest first: the first seen is the best
        best.setdefault(match.a.name, (match.similarity, label(match.b)))
        if not match.b.known:
            best.setdefault(match.b.name, (match.similarity, label(match.a)))
    return best


def add_to_gradebook(gradebook, best):
    """Fill the gradebook's ``similarity`` and ``similar_to`` columns from :func:`best_matches`."""
    with open(gradebook, newline="", encoding="utf-8-sig") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        score, other = best.get(unescape_cell(row.get("submission", "")), (None, ""))
        row["similarity"] = f"{score:.3f}" if score is not None else ""
        row["similar_to"] = escape_cell(other)
    write_gradebook(rows, Path(gradebook), columns=COLUMNS)


def run_similarity(submissions, out, against=None, floor=FLOOR):
    """Compare a class (and known solutions); write the CSV and the page; return (matches above the floor, skipped)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="convgrader-similarity-") as scratch:
        codes, skipped = read_folder(submissions, scratch, out=out)
        if against is not None:
            known, known_skipped = read_folder(against, scratch, known=True)
            codes += known
            skipped.update({f"known:{name}": why for name, why in known_skipped.items()})
    matches = [m for m in compare(codes, skeleton_code()) if m.similarity >= floor]
    write_csv(matches, out / CSV_NAME)
    (out / HTML_NAME).write_text(page(matches, skipped), encoding="utf-8")
    return matches, skipped


# -- the command ----------------------------------------------------------------------------------

def register(commands):
    parser = commands.add_parser(
        "similarity", help="find submissions that share their code (a lead to read, never a verdict)",
        description="Compare every pair of submissions in SUBMISSIONS (laid out as `batch` reads them), and "
                    "each with the known solutions in --against, into DIR/similarity.csv and similarity.html.")
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                        help="a folder holding one folder or .zip per submission")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--against", type=Path, metavar="FOLDER",
                        help="a folder of known solutions (one folder or .zip each), e.g. public repositories")
    parser.add_argument("--floor", type=_share, default=FLOOR, metavar="S",
                        help="leave out pairs less similar than S, from 0 to 1 (default %(default)s)")
    parser.add_argument("--gradebook", type=Path, metavar="CSV",
                        help="also fill this gradebook's similarity and similar_to columns "
                             "(what `batch --similarity` does)")
    parser.add_argument("--lang", default=None, metavar="ru|en", help="language of the page")
    parser.set_defaults(run=run_command)


def _share(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1")
    return value


def run_command(args, extra):
    for folder in (args.submissions, args.against):
        if folder is not None and not folder.is_dir():
            print(f"similarity: {folder} is not a folder", file=sys.stderr)
            return 2
    try:
        language.set_current(language.choose(args.lang, language.configured_in(PROJECT)))
    except ValueError as error:
        print(f"similarity: {error}", file=sys.stderr)
        return 2
    try:
        import copydetect  # noqa: F401  (only to say what is missing before reading a class)
    except ImportError:
        print('similarity: needs copydetect: python -m pip install -e ".[instructor]"', file=sys.stderr)
        return 2
    matches, skipped = run_similarity(args.submissions, args.out, args.against, args.floor)
    for name, why in sorted(skipped.items()):
        print(f"similarity: left out {shown_name(name)}: {shown(why, newlines=False)}", file=sys.stderr)
    if args.gradebook:
        add_to_gradebook(args.gradebook, best_matches(matches))
    print(f"{len(matches)} pair(s) at or above {args.floor:g}: {args.out / CSV_NAME}, {args.out / HTML_NAME}")
    return 0
