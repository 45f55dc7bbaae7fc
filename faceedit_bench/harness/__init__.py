"""The evaluation harness: one pass over pairs, all editors, all metrics.

- :mod:`.evaluation`: the pass itself (:mod:`.evaluation.run` is the loop), its judge
  worker, resume state and the guard that makes a failed edit cost the most;
- :mod:`.inputs`: what a pass is given (configs, editors, judges, pairs, manifests of
  other systems' edits, exports, run folders, training seeds);
- :mod:`.stats`: bootstrap intervals and paired comparisons;
- :mod:`.outputs`: results.json, the console summary, browser images, sweeps;
- :mod:`.audit`: checks of the judges and of where an editor's gain comes from.

The commands that run a pass and write its reports live one floor up, in
:mod:`faceedit_bench.jobs`.
"""
