"""Local Kafka and OpenSearch for development and tests, resolved from Maven Central and run with Java."""
