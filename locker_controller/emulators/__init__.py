"""Byte-exact emulators of lock boards on a pty, for tests and `bronco locker emulate`."""
