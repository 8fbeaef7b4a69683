"""The station's database: SQLModel tables, the engine (SQLite WAL or PostgreSQL), migrations."""
