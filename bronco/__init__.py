"""Bronco Station core: profiles, the driver registry, the CLI and the demo launcher."""

__version__ = "0.1.0"
