"""Lockers: lock-board drivers, the door controller and its safety rules, a board simulator.

This package never imports Kivy or FastAPI: it is a library the station uses.
"""
