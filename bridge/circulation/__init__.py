"""Lending at the kiosk: patron sessions, the RFID pad, checkout, return and renewal, the
transaction journal, the offline queue and its replay (with its report), receipts, the ILS link,
and the privacy purge of synced transactions.
"""
