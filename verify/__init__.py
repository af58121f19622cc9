"""Property-based checks, verdicts, the suite runner, reports and the CLI."""
