"""The registries: one :class:`Registry` instance per plugin kind, with built-in entries.

This file is the single source of truth for built-in names. Entries are lazy
``"module:attr"`` strings so that ``faceedit-bench ls`` and the CLI start without
importing torch-heavy backends. Users add their own with ``REGISTRY.register``.
"""

from __future__ import annotations

from faceedit_bench.registry import Registry

editors: Registry = Registry("editor")
datasets: Registry = Registry("dataset")
protocols: Registry = Registry("protocol")
au_detectors: Registry = Registry("AU detector")
identity_models: Registry = Registry("identity model")
feature_extractors: Registry = Registry("feature extractor")
lpips_models: Registry = Registry("LPIPS model")
metrics: Registry = Registry("metric")
recipes: Registry = Registry("training recipe")

# Backend kind (as used by metrics and protocols) -> registry of that kind.
BACKEND_REGISTRIES: dict[str, Registry] = {
    "au_detector": au_detectors,
    "au_detector_2": au_detectors,  # the second, independent AU judge of a protocol
    "identity": identity_models,
    "fid_features": feature_extractors,
    "lpips": lpips_models,
}
ALL: dict[str, Registry] = {
    "editors": editors,
    "datasets": datasets,
    "protocols": protocols,
    "au_detectors": au_detectors,
    "identity_models": identity_models,
    "feature_extractors": feature_extractors,
    "lpips_models": lpips_models,
    "metrics": metrics,
    "recipes": recipes,
}

# --- editors -------------------------------------------------------------------------
_E = "faceedit_bench.editors"
editors.register(
    "identity", f"{_E}.reference:IdentityEditor", group="reference", help="returns the input (lower bound)"
)
editors.register(
    "oracle",
    f"{_E}.reference:OracleEditor",
    group="reference",
    help="returns the true target (upper bound; needs ground truth)",
)
editors.register(
    "two-stage",
    f"{_E}.variants:TwoStageEditor",
    group="two-stage",
    help="motion (flow + warp) then texture (Athar et al. 2020)",
)
editors.register(
    "warp-only",
    f"{_E}.variants:WarpOnlyEditor",
    group="two-stage",
    help="ablation: motion step only, no texture step",
)
editors.register(
    "texture-only",
    f"{_E}.variants:TextureOnlyEditor",
    group="two-stage",
    help="ablation: texture step only (the baseline's structure)",
)
editors.register(
    "two-stage-no-tv",
    f"{_E}.variants:TwoStageNoTVEditor",
    group="two-stage",
    help="ablation: no flow total-variation loss",
)
editors.register(
    "two-stage-no-cycle",
    f"{_E}.variants:TwoStageNoCycleEditor",
    group="two-stage",
    help="ablation: no cycle loss",
)
editors.register(
    "two-stage-no-mask",
    f"{_E}.variants:TwoStageNoMaskEditor",
    group="two-stage",
    help="ablation: no attention-mask losses",
)
editors.register(
    "ganimation",
    "faceedit_bench.baselines.ganimation.editor:GANimationEditor",
    group="baseline",
    help="GANimation-style texture-only baseline (Pumarola et al. 2018)",
)

# --- datasets ------------------------------------------------------------------------
datasets.register(
    "aurig",
    "faceedit_bench.aurig.dataset:AuRigDataset",
    help="AU-rig procedural faces with ground truth (embedded)",
    domain="aurig",
)
datasets.register(
    "image-folder",
    "faceedit_bench.data.folder:ImageFolderDataset",
    help="a folder of face images with an AU CSV / pkl",
)
datasets.register(
    "video",
    "faceedit_bench.data.video:VideoDataset",
    help="frames of face videos; self-reenactment pairs with real ground truth",
)

# --- judges --------------------------------------------------------------------------
au_detectors.register(
    "aurig-ref",
    "faceedit_bench.aurig.reference.backends:AuRigAUDetector",
    help="AU-rig reference AU regressor (not robust: a +-2/255 change moves it; synthetic faces only)",
    domain="aurig",  # judges only AU-rig faces: refused on other data (harness.judges)
)
au_detectors.register(
    "aurig-robust",
    "faceedit_bench.aurig.reference.backends:AuRigRobustAUDetector",
    help="AU-rig AU judge adversarially trained (PGD, colour paint); harder to push than aurig-ref, not yet robust: read its judge audit (default; synthetic faces)",
    domain="aurig",
)
au_detectors.register(
    "aurig-gn",
    "faceedit_bench.aurig.reference.backends:AuRigSecondAUDetector",
    help="second AU-rig AU judge: another architecture and seed, briefly attack-trained (synthetic faces)",
    domain="aurig",
)
au_detectors.register(
    "pyfeat-xgb",
    "faceedit_bench.backends.au_pyfeat:PyFeatAUDetector",
    help="py-feat Detector, xgb AU model (needs cached HF weights)",
)
au_detectors.register(
    "mediapipe",
    "faceedit_bench.backends.au_mediapipe:MediaPipeAUDetector",
    help="MediaPipe blendshapes mapped to AUs (approximate, offline)",
)
identity_models.register(
    "aurig-ref",
    "faceedit_bench.aurig.reference.backends:AuRigIdentityModel",
    help="AU-rig reference identity encoder (synthetic faces only)",
    domain="aurig",
)
identity_models.register(
    "arcface",
    "faceedit_bench.backends.identity_arcface:ArcFaceIdentity",
    help="ArcFace r50 from a user-given ONNX/pt path",
)
identity_models.register(
    "dlib",
    "faceedit_bench.backends.identity_dlib:DlibIdentity",
    help="dlib ResNet 128-d face descriptor (offline)",
)
feature_extractors.register(
    "inception-v3-compat",
    "faceedit_bench.backends.fid_inception:InceptionV3Compat",
    help="torch-fidelity TF-Inception pool3 (2048-d)",
)
lpips_models.register(
    "lpips-alex",
    "faceedit_bench.backends.lpips_alex:LpipsAlex",
    help="LPIPS alex (needs torchvision alexnet weights in TORCH_HOME)",
)
lpips_models.register(
    "stlpips-alex",
    "faceedit_bench.backends.lpips_shift_tolerant:ShiftTolerantLpipsAlex",
    help="shift-tolerant LPIPS alex (offline; a different number)",
)

# --- metrics -------------------------------------------------------------------------
_M = "faceedit_bench.metrics"
metrics.register("edit_success", f"{_M}.metric_success:EditSuccess")
metrics.register("au_error", f"{_M}.metric_au_error:AUError")
metrics.register("au_error_2", f"{_M}.metric_au_error:SecondJudgeAUError")
metrics.register("identity", f"{_M}.metric_identity:IdentitySimilarity")
metrics.register("fid", f"{_M}.metric_fid:FID")
metrics.register("kid", f"{_M}.metric_kid:KID")
metrics.register("lpips", f"{_M}.metric_lpips:PairedLPIPS")
metrics.register("psnr", f"{_M}.metric_psnr:PairedPSNR")
metrics.register("ssim", f"{_M}.metric_ssim:PairedSSIM")
metrics.register("flow_epe", f"{_M}.metric_flow_epe:FlowEPE")

# --- protocols (objects, defined in faceedit_bench.protocols) --------------------------
for _name in ("aurig-smoke", "aurig-demo", "aurig-paper", "video-reenact"):
    protocols.register(_name, f"faceedit_bench.protocols:{_name.upper().replace('-', '_')}")


def register_entry_points() -> list[str]:
    """Register editors that installed packages declare in the ``faceedit_bench.editors`` group.

    An entry point ``name = "module:attr"`` becomes a lazy editor entry (an Editor class,
    instance or ``(images, target_aus) -> images`` callable), usable as ``--editors name``.
    One named like a built-in (or an earlier) editor is ignored with a warning naming it.
    """
    import sys
    from importlib import metadata

    from faceedit_bench.registry import RegistryError

    added = []
    for ep in metadata.entry_points(group=EDITOR_ENTRY_POINTS):
        dist = getattr(getattr(ep, "dist", None), "name", None)
        where = f"{EDITOR_ENTRY_POINTS}:{ep.name} = {ep.value!r}" + (f" (package {dist})" if dist else "")
        if ep.name in editors:
            known = editors.meta(ep.name)
            if known.get("entry_point") == where:
                continue  # registered by an earlier call
            kind = "a built-in editor" if not known.get("user") else "an editor registered before it"
            print(
                f"warning: entry point {where} ignored: {ep.name!r} is {kind}; rename the entry point",
                file=sys.stderr,
            )
            continue
        try:
            editors.register(
                ep.name, ep.value, group="external", user=True, target=ep.value, entry_point=where
            )
        except RegistryError as err:
            print(f"warning: entry point {EDITOR_ENTRY_POINTS}:{ep.name} ignored: {err}", file=sys.stderr)
            continue
        added.append(ep.name)
    return added


EDITOR_ENTRY_POINTS = "faceedit_bench.editors"
register_entry_points()

# --- training recipes ------------------------------------------------------------------
_R = "faceedit_bench.training.recipes"
recipes.register(
    "cpu-64",
    f"{_R}:CPU_64",
    help="ours: 2,400 steps at 64 px on a 2-core CPU (the shipped checkpoints)",
)
recipes.register("ganimation-paper", f"{_R}:GANIMATION_PAPER", help="GANimation's published setup, for GPUs")
