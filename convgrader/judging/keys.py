"""What the plugin keeps on pytest's config and items (stash keys), shared by its parts."""

import pytest

IMPLS = pytest.StashKey[list]()
ACTIVE = pytest.StashKey[bool]()
#: What groups a failure with others of its part: the failing lines for an exception, else the message.
FAILURE_GROUP = pytest.StashKey[str]()
