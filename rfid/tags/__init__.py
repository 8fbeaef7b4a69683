"""Library tag data: ISO 28560-3 and -2 on HF tags, ISO 28560-4 style and GS1 EPC on UHF tags.

Every decoder returns a TagValue or raises TagDataError: corrupt or unknown data is reported as
"unreadable, use the barcode", never a crash.
"""

from rfid.tags.model import TagDataError, TagValue, Usage

__all__ = ["TagDataError", "TagValue", "Usage"]
