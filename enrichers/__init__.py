"""Pure functions of their inputs: no network, no Kafka, no search engine.

Everything the stages compute lives here, so both runtimes (faust, local runner) and the offline
commands run the same code, and tests need no services.
"""
