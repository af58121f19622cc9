"""Package: see DESIGN.md layout."""
