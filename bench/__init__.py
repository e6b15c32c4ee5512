"""Benchmarks: accuracy on ../shared/data and speed through HTTP; each prints a table and writes JSON."""
