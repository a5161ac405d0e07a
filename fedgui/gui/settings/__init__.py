"""The settings dialog and the app's own preferences."""
