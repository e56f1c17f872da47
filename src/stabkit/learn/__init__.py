"""stabkit.learn."""
