"""The demo ILS: a real asyncio SIP2 server over an in-memory library loaded from TOML."""
