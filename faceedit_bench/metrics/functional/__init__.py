"""Pure tensor/array functions behind the metric classes (no state, no backends)."""
