"""pytest plugin: records parity comparisons and renders the HTML report (placeholder)."""
