"""Task history: the SQLite store, its records and schema, and per-task log files."""
