"""Benchmarks: speed and memory targets, run by hand (`python -m bench.<name>`), never as timed unit tests."""
