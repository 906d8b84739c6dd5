"""Benchmarks of the network build against stock Pelican (see benchmarks/README.md)."""
