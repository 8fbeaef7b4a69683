"""Typed SIP2 errors. Malformed input raises ProtocolError and nothing else."""

from __future__ import annotations

from ils.errors import ProtocolError

__all__ = ["ChecksumError", "EncodeError", "ProtocolError"]


class ChecksumError(ProtocolError):
    """The AZ checksum does not match the message: ask for a resend (96 or 97)."""


class EncodeError(ValueError):
    """A value cannot be put on the wire (too long, or contains '|' or CR)."""
