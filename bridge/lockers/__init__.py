"""The hold-pickup lockers: the bank of doors, loading, pickup by code or card, expiry and
reclaim, notices, the lockers' history, hold events from Alma and Koha and their reconciliation.
"""
