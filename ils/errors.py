"""Typed outcomes of talking to an ILS, whatever the protocol."""

from __future__ import annotations

__all__ = ["IlsError", "IlsRejected", "IlsUnavailable", "IlsUnsupported", "ProtocolError"]


class ProtocolError(Exception):
    """Bytes from the ILS that are not a valid message of its protocol (or that this mode refuses).

    Raised alongside the IlsError family, never as one of them: a garbled reply is neither a
    refusal nor a lost link. The SIP2 codec's own errors derive from it.
    """


class IlsError(Exception):
    """Base of the ILS layer's own errors (ProtocolError is raised alongside these)."""


class IlsUnavailable(IlsError):
    """The ILS cannot be reached or did not answer in time.

    `uncertain` is True when a request that changes state (checkout, checkin, renew, fee paid)
    may have reached the ILS before the link failed: the caller must find out whether it took
    effect (item information) instead of sending it again blindly.
    """

    def __init__(self, message: str, *, uncertain: bool = False) -> None:
        super().__init__(message)
        self.uncertain = uncertain


class IlsBusy(IlsUnavailable):
    """Every session to the ILS is in use and the ILS is answering: try again shortly. Not an
    outage (the link stays online). The request may or may not have been sent: in doubt, as
    any time-out is."""

    def __init__(self, message: str) -> None:
        super().__init__(message, uncertain=True)


class IlsRejected(IlsError):
    """The ILS answered and said no; `screen_message` is its reason, for the patron."""

    reason = ""  # an ils.refusals.Reason when the refusal's cause is known without its words

    def __init__(self, screen_message: str, *, details: object | None = None) -> None:
        super().__init__(screen_message or "refused by the library system")
        self.screen_message = screen_message
        self.details = details


class IlsUnsupported(IlsRejected):
    """This ILS does not offer the operation at all (its dialect or its SC status says so), so
    it was never sent."""

    reason = "not_supported"


class PinRejected(IlsRejected):
    """The patron is known but the PIN is wrong (counted against the card's attempt limit)."""
