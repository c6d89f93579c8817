"""The read side the CLI, API and web pages use: the ReadStore protocol (contract.py) and one reader
per store (engine.py: OpenSearch / Elasticsearch; embedded.py: the embedded SQLite index). The write
side of each store is in sinks/ (search_writer.py, embedded_index.py)."""
