"""leadhub's data contracts: models, Kafka serialization, topics, index templates, JSON Schema."""
