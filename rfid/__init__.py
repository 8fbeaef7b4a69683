"""RFID for library items: ISO 28560 tag data, reader drivers and a reader simulator.

This package never imports Kivy or FastAPI: it is a library the station uses.
"""
