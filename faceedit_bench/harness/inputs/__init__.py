"""What a pass is given: configs, editors, judges, pairs, other systems' edits, run folders, seeds."""
