from leadhub.cli import run

run()
