"""One module per detector family."""
