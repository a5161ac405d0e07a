"""The desktop app (PySide6). Views only: they render core events and call the core."""
