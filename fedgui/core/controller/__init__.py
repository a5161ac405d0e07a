"""The FEDn controller's REST side: the client, its errors, URLs and the connection check."""
