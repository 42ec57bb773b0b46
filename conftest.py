"""Root conftest: the grading plugin, also when the project is not pip-installed.

Installed, the plugin is registered through the ``pytest11`` entry point under
this same name and the line below is a no-op.
"""

pytest_plugins = ["convgrader.judging.plugin"]
