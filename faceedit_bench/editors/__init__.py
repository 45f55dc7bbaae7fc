"""Editors: reference bounds, the two-stage model and its ablation variants."""
