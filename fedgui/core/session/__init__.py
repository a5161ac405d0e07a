"""The participation session (the FEDn client's state machine) and its parts.

``Session`` is imported lazily: the small parts (back-off, states, tokens) are usable without
pulling in gRPC and the package gate."""
