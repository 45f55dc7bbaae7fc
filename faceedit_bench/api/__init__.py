"""Contracts every plugin implements: editors, datasets, detectors, metrics, protocols."""
