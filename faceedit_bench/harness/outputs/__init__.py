"""What a pass writes: results.json, the console summary, browser images, sweeps, provenance."""
