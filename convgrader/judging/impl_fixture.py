"""The ``impl`` fixture of graded tests.

The plugin registers this module only in an active run (see
:func:`convgrader.judging.plugin.is_active`), so pytest on another project
never sees the fixture.
"""

import pytest

from convgrader.judging.keys import IMPLS


@pytest.fixture(scope="session")
def impl(request):
    """The implementation under test (see ``--impl``)."""
    return getattr(request, "param", None) or request.config.stash[IMPLS][0]
