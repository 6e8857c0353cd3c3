"""Benchmarks of dockercreds against its peers; run ``python -m benchmarks``."""
