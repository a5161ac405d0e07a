"""Small widgets and helpers shared by the window, the wizard and the review."""
