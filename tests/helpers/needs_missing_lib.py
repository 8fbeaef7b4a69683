"""A driver module whose vendor library is not installed (for the registry tests)."""

import fancylib_that_is_not_installed  # noqa: F401


class Reader:
    pass
