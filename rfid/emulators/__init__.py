"""Byte-exact emulators of real readers, served on a pty for tests and bench runs."""
