"""stabkit.report."""
