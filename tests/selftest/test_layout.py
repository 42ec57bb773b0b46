"""The harness's layout: levels that import only downwards, one table of the assignment, an inert plugin.

The import graph drawn in ``docs/architecture.md`` is checked against the code,
so the drawing cannot go stale: ``python -m tests.selftest.test_layout`` prints
it anew.
"""

import ast
import importlib.metadata
import re
import subprocess
import sys
import textwrap

import pytest

from convgrader.assignment import PARTS
from convgrader.paths import HARNESS, PROJECT

#: The harness's levels, lowest first: a module may import from its own level and lower ones only.
LEVELS = ("base", "running", "judging", "course", "cli")
ARCHITECTURE = PROJECT / "docs" / "architecture.md"


def level_of(module):
    """``convgrader.running.sandbox`` -> ``running``; top-level modules are ``base`` but for the CLI."""
    parts = module.split(".")
    if len(parts) > 2 and parts[1] in LEVELS:
        return parts[1]
    return "cli" if parts[-1] in ("cli", "__main__") else "base"


def harness_modules():
    """Module name -> file, for every module of the harness (the levels' own empty packages left out)."""
    modules = {".".join(path.relative_to(PROJECT).with_suffix("").parts).removesuffix(".__init__"): path
               for path in sorted(HARNESS.rglob("*.py"))}
    return {name: path for name, path in modules.items() if name.split(".")[-1] not in LEVELS}


def imports_of(path, module):
    """The harness modules ``path`` imports, anywhere in it (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module if node.level == 0 else ".".join(module.split(".")[:-node.level] + [node.module])
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("convgrader")}


def import_graph():
    modules = harness_modules()
    return {module: sorted(name for name in imports_of(path, module) if name in modules and name != module)
            for module, path in modules.items()}


def mermaid(graph):
    """The import graph as a Mermaid flowchart: one box per level, one node per module."""
    def node(module):
        return module.removeprefix("convgrader.").replace(".", "_") or "convgrader"

    lines = ["flowchart BT"]
    for level in LEVELS:
        lines.append(f"    subgraph {level}")
        lines += [f"        {node(m)}[{m.removeprefix('convgrader.')}]" for m in graph if level_of(m) == level]
        lines.append("    end")
    lines += [f"    {node(a)} --> {node(b)}" for a, targets in graph.items() for b in targets]
    return "\n".join(lines)


def test_imports_go_only_down_the_levels():
    upward = [f"{a} -> {b}" for a, targets in import_graph().items() for b in targets
              if LEVELS.index(level_of(b)) > LEVELS.index(level_of(a))]
    assert upward == []


def test_no_import_cycles():
    graph = import_graph()
    state = {}

    def visit(node, path):
        if state.get(node) == "open":
            cycle = path[path.index(node):] + [node]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if state.get(node) == "done":
            return
        state[node] = "open"
        for target in graph[node]:
            visit(target, path + [node])
        state[node] = "done"

    for module in graph:
        visit(module, [])


def test_the_drawing_in_docs_is_the_import_graph():
    drawn = re.search(r"```mermaid\n(.*?)```", ARCHITECTURE.read_text(encoding="utf-8"), re.S)
    assert drawn and drawn.group(1).strip() == mermaid(import_graph()), \
        "docs/architecture.md is stale: paste the output of `python -m tests.selftest.test_layout`"


def test_part_names_live_in_the_assignment_table_only():
    """A part's name in the harness's code (not in its messages for people) is in assignment.py alone."""
    found = []
    for module, path in harness_modules().items():
        if module == "convgrader.assignment":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in PARTS:
                found.append(f"{path.relative_to(PROJECT)}:{node.lineno}: {node.value!r}")
    assert found == []


FOREIGN_TESTS = '''
    import time

    def test_ours_fails_as_pytest_shows_it():
        raise NotImplementedError("in a foreign project")

    def test_no_timeout_is_added(request):
        assert request.node.get_closest_marker("timeout") is None

    def test_no_impl_fixture(request):
        with __import__("pytest").raises(Exception, match="impl"):
            request.getfixturevalue("impl")
'''


def test_the_plugin_is_inert_in_another_project(tmp_path):
    """pytest on another project, in this environment, behaves as if the harness were not installed."""
    entry_points = {e.value for e in importlib.metadata.entry_points(group="pytest11")}
    assert "convgrader.judging.plugin" in entry_points, "the project is not installed (pip install -e .)"
    project = tmp_path / "foreign"
    project.mkdir()
    (project / "test_foreign.py").write_text(textwrap.dedent(FOREIGN_TESTS))
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA"], cwd=project,
                         capture_output=True, text=True, timeout=300)
    output = run.stdout + run.stderr
    assert "2 passed, 1 failed" in output or "1 failed, 2 passed" in output, output
    assert 'raise NotImplementedError("in a foreign project")' in output, "the failure was rewritten"
    assert "not implemented yet" not in output and "graded parts" not in output, output


if __name__ == "__main__":
    print(mermaid(import_graph()))
