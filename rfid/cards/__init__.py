"""Patron card readers (campus smart cards over PC/SC) and their simulator."""
