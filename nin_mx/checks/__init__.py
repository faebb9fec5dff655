"""Checks, pure data: findings, graph rules, checkpoint rules, and the public check."""
