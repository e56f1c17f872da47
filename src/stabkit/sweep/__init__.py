"""stabkit.sweep."""
