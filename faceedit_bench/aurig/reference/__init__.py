"""Reference judges for AU-rig faces: an AU-intensity regressor and an identity encoder.

Small CNNs at a fixed 64 px input, trained only on the ``reference`` split by
``python -m faceedit_bench.aurig.reference.train --out DIR``; the shipped weights
live in ``weights/`` beside a JSON record of how they were made and measured.
"""
