"""Trust checks: how far each judge can be pushed, and where an editor's gain comes from."""
