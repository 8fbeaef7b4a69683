"""The `bronco` command line: the root app and its sub-apps, the demo launcher and the doctor."""

from station_core import __version__

__all__ = ["__version__"]
