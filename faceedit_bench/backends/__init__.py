"""Judge backends: AU detectors, identity models, FID feature extractors, LPIPS models."""
