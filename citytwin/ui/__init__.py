"""The desktop window: PySide6 only."""
