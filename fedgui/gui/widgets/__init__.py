"""Widgets of the main window: live log, metric plots, history table, resource meter."""
