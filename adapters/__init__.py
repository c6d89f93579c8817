"""The clients every layer shares: Kafka (client options, the checked producer) and the search backend.

Each adapter owns its settings section; adapters import only schemas/."""
