"""Benchmark scripts (plain Python, not pytest): `make bench` runs ``python -m benchmarks.ledger``.
See benchmarks/README.md."""
