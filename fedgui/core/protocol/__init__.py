"""The gRPC side of FEDn: our own wire-compatible .proto, the channel, messages, model transfer.

Use the names below; the generated stubs (``generated.fedn_pb2``) are for building messages
and reading fields. See docs/core-contracts.md, section "protocol"."""
