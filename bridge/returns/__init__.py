"""The return station: items through the slot, checked in, sorted into bins (issue 32)."""
