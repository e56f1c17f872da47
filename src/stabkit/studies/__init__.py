"""stabkit.studies."""
