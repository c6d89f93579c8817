"""leadhub: an open pipeline for public complaints and service-supervision leads."""

__version__ = "0.1.0"
