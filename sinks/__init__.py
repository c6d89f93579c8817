"""The search-engine writer: leads and cases from Kafka into the index, at least once, idempotent."""
