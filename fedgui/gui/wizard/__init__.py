"""The connection wizard: connect, choose data, review the package, prepare, preview, finish."""
