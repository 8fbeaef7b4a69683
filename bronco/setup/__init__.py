"""`bronco setup`: the first-run questions that write a station's profile (docs/operations.md)."""
