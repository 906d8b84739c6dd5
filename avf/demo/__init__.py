"""Demo data: grow the hand-written sample network into a synthetic network of N cities."""
