"""Benchmarks: `make bench` (or `python -m tests.bench.run`). Not tests: pytest does not collect them."""
