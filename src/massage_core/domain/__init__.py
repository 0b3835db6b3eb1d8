"""The pure model: value objects, aggregates, policies, events and errors."""
