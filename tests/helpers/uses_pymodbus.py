"""A driver module that needs pymodbus (the registry test blocks it)."""

import pymodbus  # noqa: F401


class Board:
    pass
