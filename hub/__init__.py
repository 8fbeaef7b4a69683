"""Bronco Hub: one desk for many stations. Stations push their events to it and pull the commands
addressed to them; no station depends on it (docs/hub.md)."""
