"""Package: see verify/checks/__init__.py."""
