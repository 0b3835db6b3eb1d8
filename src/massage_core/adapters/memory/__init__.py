"""In-memory adapters of every port, for tests, demos and embedders."""
