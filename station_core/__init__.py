"""The ground floor every part of Bronco Station stands on: the hardware profile, the driver
registry (drivers found by name and imported lazily), the library calendar, and the fault and pty
helpers the device simulators and emulators share.

It imports nothing else of the project at module level, so any layer may use it.
"""

__version__ = "0.1.0"
