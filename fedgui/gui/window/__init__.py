"""The main window and the views inside it."""
