"""Self-test: the one sanitizer of text that came from a submission (``convgrader.untrusted``)."""

import json
import os
import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape as xml_escape

import pytest

from convgrader.untrusted import CUT_MARK, shown, shown_name

HOSTILE = {
    "clear screen": "\x1b[2J\x1b[H",
    "window title": "\x1b]0;owned\x07",
    "8-bit CSI": "\x9b31m",
    "carriage return": "all tests passed\r",
    "backspace": "FAILED\b\b\b\b\b\b",
    "bidi override": "\u202eevil\u202c",
    "lone surrogate": "\udcff\ud800",
    "line separator": "a\u2028b",
    "nul": "a\x00b",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_dangerous_characters_become_visible_escapes(text):
    safe = shown(text)
    assert all(c in "\n\t" or 0x20 <= ord(c) < 0x7f or ord(c) > 0x9f for c in safe)
    assert "\\" in safe
    safe.encode("utf-8")  # no surrogate is left for an encoder to reject
    ElementTree.fromstring(f"<a>{xml_escape(safe)}</a>")  # XML 1.0 accepts every character left
    json.dumps(safe, ensure_ascii=False).encode("utf-8")


def test_text_readers_need_is_kept():
    text = "ошибка: x has shape (2, 3)\n\tline 2 — «ok» 1e-8 ≤ 2"
    assert shown(text) == text


def test_a_byte_that_was_not_utf8_shows_as_its_value():
    assert shown_name(os.fsdecode(b"caf\xff")) == "caf\\xff"
    assert shown(b"\xfe ok") == "\\xfe ok"


def test_names_stay_on_one_line_and_long_text_is_capped():
    assert shown_name("a\nb") == "a\\x0ab"
    capped = shown("x" * 50, 10)
    assert capped == "x" * 10 + CUT_MARK.format(count=40)
    assert len(shown_name("y" * 5000)) < 300
