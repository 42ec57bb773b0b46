"""A grading report as one self-contained HTML page (``grade --html FILE``, ``batch``'s report.html).

The page holds the points per part and, for every failed test, its message
and, when an array comparison failed, three small pictures of the slice that
differs most (see :func:`convgrader.judging.compare.comparison_figure`):
expected, actual and |actual - expected|. A padding or stride bug shows as a
shifted or thinned-out picture at a glance. For each part with failures it
also names the failing test with the smallest input, the one to debug first.

Everything is inline: CSS in a ``<style>`` element, pictures as PNG data URIs
encoded here with zlib (no plotting library), no script, no external URL, so
the file can be mailed or opened from an archive as it is.
"""

import base64
import html
import struct
import zlib
from pathlib import Path

import numpy as np

from convgrader import language, limits
from convgrader.assignment import PARTS
from convgrader.messages import say
from convgrader.report import to_results_json
from convgrader.untrusted import shown

#: Side in pixels the largest picture is drawn at; each array element is a square block.
PICTURE_PIXELS = 160
#: Largest block per array element (a 2x2 array is not blown up to a poster).
MAX_BLOCK = 24
NAN_COLOUR = (255, 0, 255)  # magenta: no colour of either scale

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; }
.meta { color: #666; margin-top: 0; }
table.parts { border-collapse: collapse; margin: 1em 0; }
table.parts th, table.parts td { padding: 0.3em 0.9em; border-bottom: 1px solid #ddd; text-align: left; }
table.parts td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.ok td:first-child::before { content: "\\2713  "; color: #1a7f37; }
tr.fail td:first-child::before { content: "\\2717  "; color: #cf222e; }
tr.total td { font-weight: bold; border-bottom: none; }
section.part { border-top: 2px solid #cf222e; margin-top: 2em; }
.smallest { background: #fff8e1; padding: 0.5em 0.8em; }
article.failure { margin: 1.2em 0; }
article.failure h4 { margin: 0.4em 0; font-family: ui-monospace, monospace; }
pre { background: #f6f8fa; padding: 0.6em; white-space: pre-wrap; font-size: 0.85em; }
figure.comparison { display: flex; gap: 1.2em; flex-wrap: wrap; align-items: flex-start; margin: 0.5em 0; }
figure.comparison > figcaption { flex-basis: 100%; color: #555; font-size: 0.9em; }
.panel { text-align: center; font-size: 0.85em; }
.panel img { display: block; image-rendering: pixelated; border: 1px solid #999; }
.hidden-tag { background: #eee; border-radius: 3px; padding: 0 0.3em; font-size: 0.8em; }
.tampering { background: #ffebe9; padding: 0.6em; }
"""


def write(path, report):
    """Write the page of ``report`` (a :class:`~convgrader.report.Report`) to ``path``.

    The page is drawn from the report as results.json holds it, plus each
    verdict's ``figure`` (the slice of a failed array comparison).
    """
    figures = {verdict.nodeid: verdict.figure for verdict in report.tests}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(to_results_json(report), figures), encoding="utf-8")


def page(report, figures):
    """The whole page as a string; ``figures`` maps node ids to figure dicts (or None)."""
    extra = report.get("extra_data") or {}
    title = _headline(report)
    body = [f"<h1>{_text(title)}</h1>",
            f"<p class=\"meta\">{_text(extra.get('impl', ''))} &middot; "
            f"{_text(say('html_graded_at', when=extra.get('graded_at') or ''))}"
            f" &middot; convnet-grader {_text(extra.get('harness_version', ''))}</p>",
            parts_table(extra.get("parts") or {}, report)]
    if extra.get("tampering"):
        body.append(f"<pre class=\"tampering\">{_text(report.get('output', ''))}</pre>")
    elif report.get("output"):
        body.append(f"<pre>{_text(report['output'])}</pre>")
    failed = [test for test in report.get("tests", []) if test.get("status") == "failed"]
    if failed:
        body.append(f"<h2>{_text(say('html_failed_tests', count=len(failed)))}</h2>")
    for part in _parts_in_order(failed):
        body.append(part_section(part, [t for t in failed if _part(t) == part], figures))
    return (f"<!DOCTYPE html>\n<html lang=\"{language.current()}\"><head><meta charset=\"utf-8\">"
            f"<title>{_text(title)}</title>"
            f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")


def _headline(report):
    """The required score, and the bonus apart (as :func:`convgrader.report.headline` says it)."""
    extra = report.get("extra_data") or {}
    bonus, max_bonus = extra.get("bonus") or 0, extra.get("max_bonus") or 0
    required = extra.get("required", (report.get("score") or 0) - bonus)
    said = say("headline_required", score=required, max_score=report.get("max_score") or 0)
    return say("headline_with_bonus", required=said, bonus=bonus, max_bonus=max_bonus) if max_bonus else said


# -- points per part -------------------------------------------------------------------------------

def parts_table(parts, report):
    """Points per part; the required parts' total and the bonus's on rows of their own."""
    extra = report.get("extra_data") or {}
    bonus_parts = set(extra.get("bonus_parts") or [])
    rows = [f"<table class=\"parts\"><tr><th>{_text(say('grade_part'))}</th><th>{_text(say('grade_passed'))}</th>"
            f"<th>{_text(say('grade_points'))}</th></tr>"]
    for part in PARTS:
        info = parts.get(part)
        if not info or not info.get("total"):
            continue
        state = "ok" if info["passed"] == info["total"] else "fail"
        name = say("grade_bonus", part=part) if part in bonus_parts else part
        rows.append(f"<tr class=\"{state}\"><td>{_text(name)}</td>"
                    f"<td class=\"num\">{info['passed']}/{info['total']}</td>"
                    f"<td class=\"num\">{info['score']:.2f} / {info['max_score']:g}</td></tr>")
    bonus, max_bonus = extra.get("bonus") or 0, extra.get("max_bonus") or 0
    required = extra.get("required", (report.get("score") or 0) - bonus)
    rows.append(f"<tr class=\"total\"><td>{_text(say('grade_required'))}</td><td></td>"
                f"<td class=\"num\">{required:.2f} / {report.get('max_score') or 0:g}</td></tr>")
    if max_bonus:
        rows.append(f"<tr class=\"total bonus\"><td>{_text(say('grade_bonus_total'))}</td><td></td>"
                    f"<td class=\"num\">{bonus:.2f} / {max_bonus:g}</td></tr>")
    return "\n".join(rows) + "</table>"


def _part(test):
    return (test.get("tags") or ["other"])[0]


def _parts_in_order(tests):
    found = {_part(test) for test in tests}
    return [p for p in PARTS if p in found] + sorted(found - set(PARTS))


# -- failures --------------------------------------------------------------------------------------

def part_section(part, tests, figures):
    """A part's failures as the terminal shows them: each different failure once, the same one named.

    Failures are the same when their group is (the exception and the student's
    frames, as the plugin groups them) or, without one, when their text is.
    The first :data:`convgrader.limits.FAILURES_SHOWN_PER_PART` different failures are shown in
    full with their pictures; the others are named.
    """
    items = [f"<section class=\"part\" id=\"part-{_text(part)}\"><h3>{_text(part)}</h3>"]
    smallest = smallest_failing(tests, figures)
    if smallest:
        items.append(smallest)
    groups = {}
    first = smallest_test(tests, figures)  # the failure to debug first is shown first, in full
    for test in ([first] if first else []) + [test for test in tests if test is not first]:
        groups.setdefault(_group_of(test), []).append(test)
    cut = limits.FAILURES_SHOWN_PER_PART
    shown, hidden = list(groups.values())[:cut], list(groups.values())[cut:]
    for members in shown:
        test, others = members[0], [other.get("name", "") for other in members[1:]]
        nodeid = (test.get("extra_data") or {}).get("nodeid", "")
        hidden_tag = (f" <span class=\"hidden-tag\">{_text(say('html_hidden_test'))}</span>"
                      if test.get("visibility") != "visible" else "")
        items.append(f"<article class=\"failure\"><h4>{_text(test.get('name', ''))}{hidden_tag}</h4>"
                     f"<pre>{_text(test.get('output', ''))}</pre>")
        if figures.get(nodeid):
            items.append(figure_block(figures[nodeid], nodeid))
        if others:
            items.append(f"<p class=\"same\">{_text(say('same_failure', count=len(others), part=part, names=_names(others)))}</p>")
        items.append("</article>")
    if hidden:
        names = [test.get("name", "") for members in hidden for test in members]
        items.append(f"<p class=\"more\">{_text(say('html_more_failures', count=len(names), part=part, names=_names(names)))}</p>")
    items.append("</section>")
    return "\n".join(items)


def _group_of(test):
    """What makes two failures of a part the same: the plugin's group, else the text; and the visibility."""
    extra = test.get("extra_data") or {}
    return (test.get("visibility"), extra.get("group") or test.get("output", ""))


def _names(names):
    return ", ".join(names)  # a page has room for every name (the terminal cuts its list)


def smallest_test(tests, figures):
    """The visible failed test of this part with the fewest input elements, or None."""
    candidates = []
    for test in tests:
        nodeid = (test.get("extra_data") or {}).get("nodeid", "")
        figure = figures.get(nodeid)
        if figure and figure.get("input_size") and test.get("visibility") == "visible":
            candidates.append((figure["input_size"], nodeid, test))
    return min(candidates, key=lambda found: found[:2])[2] if candidates else None


def smallest_failing(tests, figures):
    """A note naming the failed test of this part with the fewest input elements, and how to run it alone."""
    test = smallest_test(tests, figures)
    if test is None:
        return ""
    nodeid = test["extra_data"]["nodeid"]
    figure = figures[nodeid]
    return (f"<p class=\"smallest\">{_text(say('html_smallest', name=test.get('name', ''), inputs=_inputs_text(figure['inputs'])))} "
            f"<code>pytest \"{_text(nodeid)}\"</code></p>")


def _inputs_text(inputs):
    parts = []
    for name, value in inputs.items():
        if isinstance(value, dict) and "shape" in value:
            parts.append(f"{name} {tuple(value['shape'])} {value.get('dtype', '')}".rstrip())
        elif isinstance(value, dict):
            parts.append(f"{name} {{{', '.join(f'{k}: {v}' for k, v in value.items())}}}")
        else:
            parts.append(f"{name} = {value}")
    return ", ".join(parts)


def figure_block(figure, nodeid):
    """Expected, actual and |difference| side by side, with what they show in a caption."""
    expected, actual = _array(figure.get("expected")), _array(figure.get("actual"))
    scale = _finite_max(np.abs(expected), np.abs(actual))
    what = figure.get("what", "")
    panels = [_panel(say("html_expected", what=what), diverging(expected, scale)),
              _panel(say("html_yours", what=what), diverging(actual, scale))]
    rows, cols = min(expected.shape[0], actual.shape[0]), min(expected.shape[1], actual.shape[1])
    difference = np.abs(actual[:rows, :cols] - expected[:rows, :cols])
    same_shape = expected.shape == actual.shape
    biggest = _finite_max(difference)
    if difference.size:
        label = say("html_difference") if same_shape else say("html_difference_overlap")
        panels.append(_panel(label, magnitude(difference, biggest)))
    caption = [_where(figure), say("html_colours", scale=f"{scale:.3g}", biggest=f"{biggest:.3g}")]
    if not same_shape:
        caption.append(say("html_shapes_differ", expected=tuple(figure.get("expected_shape", [])),
                           actual=tuple(figure.get("actual_shape", []))))
    if np.isnan(actual).any():
        caption.append(say("html_magenta"))
    return (f"<figure class=\"comparison\" data-test=\"{_text(nodeid)}\">" + "".join(panels)
            + f"<figcaption>{'; '.join(_text(part) for part in caption)}</figcaption></figure>")


def _where(figure):
    what, index, origin = figure.get("what", ""), figure.get("index"), figure.get("origin") or []
    where = f"{what}[n={index[0]}, c={index[1]}]" if index and len(index) == 2 else \
        f"{what}[{', '.join(map(str, index))}]" if index else what
    if any(origin):
        where = say("html_from_row", where=where, row=origin[0]) if len(origin) < 2 else \
            say("html_from_row_column", where=where, row=origin[0], column=origin[1])
    return say("html_slice", where=where)


def _panel(label, rgb):
    if rgb.size == 0:
        return f"<div class=\"panel\"><div>(empty)</div>{_text(label)}</div>"
    height, width = rgb.shape[:2]
    block = max(1, min(MAX_BLOCK, PICTURE_PIXELS // max(height, width)))
    big = np.repeat(np.repeat(rgb, block, axis=0), block, axis=1)
    return (f"<div class=\"panel\"><img alt=\"{_text(label)}\" width=\"{width * block}\" height=\"{height * block}\""
            f" src=\"data:image/png;base64,{_base64(encode_png(big))}\">{_text(label)}</div>")


# -- pictures --------------------------------------------------------------------------------------

def _array(rows):
    """A figure's list of rows back to a float array, None (NaN, inf) as NaN."""
    rows = rows or []
    if not rows or not rows[0]:
        return np.zeros((0, 0))
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float64)


def _finite_max(*arrays):
    values = [np.max(a[np.isfinite(a)]) for a in arrays if np.isfinite(a).any()]
    return float(max(values)) if values and max(values) > 0 else 1.0


def diverging(values, scale):
    """(h, w) floats -> (h, w, 3) uint8: blue below 0, white at 0, red above, magenta for NaN."""
    t = np.clip(np.nan_to_num(values / scale), -1.0, 1.0)
    fade = (255 * (1 - np.abs(t))).astype(np.uint8)
    full = np.full_like(fade, 255)
    rgb = np.stack([np.where(t < 0, fade, full), fade, np.where(t > 0, fade, full)], axis=-1)
    rgb[np.isnan(values)] = NAN_COLOUR
    return rgb


def magnitude(values, scale):
    """(h, w) non-negative floats -> (h, w, 3) uint8 from white (0) to black (``scale``)."""
    level = (255 * (1 - np.clip(np.nan_to_num(values / scale), 0.0, 1.0))).astype(np.uint8)
    rgb = np.stack([level] * 3, axis=-1)
    rgb[np.isnan(values)] = NAN_COLOUR
    return rgb


def encode_png(rgb):
    """(h, w, 3) uint8 -> the bytes of an 8-bit RGB PNG."""
    height, width, _ = rgb.shape
    scanlines = b"".join(b"\x00" + np.ascontiguousarray(rgb[row]).tobytes() for row in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, RGB, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(scanlines, 9))
            + chunk(b"IEND", b""))


def _base64(data):
    return base64.b64encode(data).decode("ascii")


def _text(value):
    return html.escape(shown(value), quote=True)
