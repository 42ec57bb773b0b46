"""Text that came from a submission, made safe to show or write anywhere.

A submission controls its exception messages, what it prints, the reprs of its
objects, the names it imports and the names of its files and folders. Any of
them may hold terminal escape sequences (which move the cursor, clear the
screen or set the window's title), carriage returns and backspaces that write
over a line, bidirectional overrides that reorder what a reader sees, lone
surrogates that no encoder accepts, characters that XML forbids, or megabytes.

:func:`shown` is the one function that makes such a string safe for every
writer: the terminal, CSV, JUnit XML, Markdown, HTML and JSON. Each dangerous
character becomes a visible escape (``\\x1b``, ``\\r``, ``\\u202e``; a byte that
was not UTF-8, as a file name from ``os.listdir`` carries it, becomes ``\\xff``),
and the whole is capped. What stays is printable text, newlines and tabs. The
formats' own escaping (HTML's ``&lt;``, CSV's formula guard, Markdown's table
pipes) is their writers' job, on top of this.
"""

import re
import unicodedata

from convgrader import limits

#: Characters kept as they are although Unicode calls them controls.
KEPT = "\n\t"
#: Unicode categories shown as escapes: controls (C0, DEL, C1 with the 8-bit CSI),
#: format characters (bidirectional overrides, zero-width joiners), surrogates,
#: unassigned and private-use code points, and line/paragraph separators.
ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Co", "Zl", "Zp"})
#: Marks the end of a capped text; the number is how many characters were left out.
CUT_MARK = "… [+{count}]"

_SURROGATE_ESCAPED_BYTE = range(0xDC80, 0xDD00)


def _escape(character):
    code = ord(character)
    if code in _SURROGATE_ESCAPED_BYTE:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _needs_escape(character):
    return character not in KEPT and unicodedata.category(character) in ESCAPED_CATEGORIES


_QUICK_SAFE = re.compile(r"[\n\t\x20-\x7e\u00a0-\u0377\u0400-\u052f\u2010-\u2027\u2030-\u205e]*")


def shown(text, limit=limits.SHOWN_CHARACTERS, *, newlines=True):
    """``text`` with every dangerous character made a visible escape, at most ``limit`` characters.

    Parameters
    ----------
    text : str or bytes or object
        What the submission produced; bytes are decoded as UTF-8 (an invalid
        byte shows as ``\\xNN``), any other object through ``str``.
    limit : int or None
        Most characters kept (before escaping); the rest is replaced by
        :data:`CUT_MARK`. None keeps everything.
    newlines : bool
        Keep newlines (a multi-line message); False shows them as ``\\n`` too,
        for one-line places: a table cell, a progress bar, a file name.

    Returns
    -------
    str
        Printable text that every codec of the writers encodes (no surrogates).
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "surrogateescape")
    elif not isinstance(text, str):
        text = str(text)
    cut = 0
    if limit is not None and len(text) > limit:
        text, cut = text[:limit], len(text) - limit
    if not _QUICK_SAFE.fullmatch(text) or not newlines:
        text = "".join(_escape(c) if _needs_escape(c) or (c == "\n" and not newlines) else c for c in text)
    return text + CUT_MARK.format(count=cut) if cut else text


def shown_name(name):
    """A file or folder name from a submission, on one line and capped (see :func:`shown`)."""
    return shown(name, limits.NAME_CHARACTERS, newlines=False)


def shown_tree(value):
    """``value`` (JSON-like: dicts, lists, strings, numbers) with every string passed through :func:`shown`.

    The last line of defence of a writer of structured data (results.json): a
    string that was not sanitized where it entered the grader is made safe here;
    text that already was comes out unchanged (:func:`shown` is idempotent).

    Parameters
    ----------
    value : dict, list, tuple, str or scalar
        The structure to write; dict keys are strings too.

    Returns
    -------
    same structure as ``value``
        Tuples come back as lists (JSON has no tuples).
    """
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {shown(key) if isinstance(key, str) else key: shown_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [shown_tree(item) for item in value]
    return value


def shown_document(text):
    """A whole document the grader wrote (a terminal table, a Markdown page), made safe without a cap.

    Our own text passes unchanged; anything from a submission that reached it
    unsanitized has its dangerous characters escaped (see :func:`shown`).
    """
    return shown(text, None)
