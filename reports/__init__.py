"""HTML parity reports: a pytest plugin that records comparisons and a renderer."""
