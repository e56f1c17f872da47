"""stabkit.represent."""
