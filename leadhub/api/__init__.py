"""The HTTP API, the Open311 endpoints and the web pages, served by one FastAPI app."""
