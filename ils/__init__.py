"""The ILS layer: the SIP2 codec and client, the ILS-neutral adapter, and the demo ILS.

This package never imports Kivy or FastAPI: it is a library the station uses.
"""
