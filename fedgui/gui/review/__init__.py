"""Reviewing a compute package before it may run: the widget (wizard step) and the dialog (updates)."""
