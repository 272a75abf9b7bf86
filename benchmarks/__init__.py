"""Speed and memory benchmarks (`make bench`). Not tests: they report figures, they do not fail CI."""
