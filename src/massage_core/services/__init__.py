"""Use cases, one module per context. Every acting method takes the Actor first."""
