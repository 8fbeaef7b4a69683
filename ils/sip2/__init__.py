"""SIP2 (3M Standard Interchange Protocol 2.00): typed messages, codec, async client."""

from ils.sip2 import messages as _messages
from ils.sip2.codec import Sip2Codec, checksum, decode_message, encode_message
from ils.sip2.errors import ChecksumError, EncodeError, ProtocolError
from ils.sip2.messages import *  # noqa: F403

__all__ = [
    "ChecksumError", "EncodeError", "ProtocolError", "Sip2Codec", "checksum", "decode_message",
    "encode_message", *_messages.__all__,
]
