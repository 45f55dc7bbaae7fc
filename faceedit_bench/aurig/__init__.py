"""AU-rig: a procedural face benchmark with exact AU, flow and texture-event ground truth.

See DESIGN.md ("AU-rig") and datasets.md. Entry points: :class:`AuRigDataset`
(``faceedit_bench.aurig.dataset``), :func:`render` / :func:`render_pair`
(``faceedit_bench.aurig.render``), and the reference judges in
``faceedit_bench.aurig.reference``.
"""
