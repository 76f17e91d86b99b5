"""Benchmarks (run with `make bench`) and the bench-only Django settings, URLs and load generator."""
