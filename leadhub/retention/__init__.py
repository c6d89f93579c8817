"""Retention (PIPL: personal data no longer than needed): `leadhub retention run` and its schedule.

The rules are schemas/retention.py; each store applies them in its own module (embedded:
sinks/embedded_retention.py; cluster: leadhub/retention/cluster.py for the search engine and
leadhub/retention/topics.py for Kafka); photos of deleted leads leave the attachments store.
"""
