"""The compute-package gate: verify, unpack safely, read the manifest, review, require approval.

Nothing in here runs package code; it only decides whether a package may be run later."""
