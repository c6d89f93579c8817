"""The stages on Kafka: handlers shared by the faust app and the one-process local runner."""
