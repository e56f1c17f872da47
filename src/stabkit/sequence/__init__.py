"""stabkit.sequence."""
