"""Statistics of a run: bootstrap intervals, paired comparisons, seeds as replicates."""
