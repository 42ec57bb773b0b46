"""Prints the mutation score (mutants caught / mutants) after a self-test run.

A plugin, not a conftest: under pytest-xdist only the controller prints the
summary, and it never loads the conftest files of the folders its workers collect.
``convgrader.judging.plugin`` registers it with ``--selftest``.
"""


def pytest_terminal_summary(terminalreporter):
    caught = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            if report.when == "call" and "test_mutant_fails_its_own_part" in report.nodeid:
                caught.append(dict(report.user_properties).get("caught", False))
    if caught:
        terminalreporter.section("mutation score")
        terminalreporter.write_line(f"{sum(caught)} / {len(caught)} one-bug implementations caught "
                                    f"({100 * sum(caught) / len(caught):.0f}%)")
