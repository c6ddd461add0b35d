"""Privacy rules that run: consent and audit hooks, retention, subject access export."""
