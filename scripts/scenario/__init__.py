"""The scenario runner behind scripts/rumor-scenario (docs/SCENARIOS.md)."""
