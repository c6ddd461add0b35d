"""Pure rules on vectors and scores: the open-set decision, templates, enrollment checks,
liveness verdicts, per-model figures."""
