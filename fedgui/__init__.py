"""fedgui: take part in a FEDn federated-learning network from your own workstation."""

__version__ = "0.1.0"
