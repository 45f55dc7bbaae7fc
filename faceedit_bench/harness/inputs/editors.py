"""Build the editors a run asks for; ones that cannot run are reported, not fatal."""

from __future__ import annotations

from faceedit_bench import plugins
from faceedit_bench.api.editor import Editor, EditorLoadError
from faceedit_bench.user_editors import build_registered_editor, resolve_editor


def load_editors(
    names: list[str],
    checkpoints: dict[str, str],
    resolution: int,
    device: str,
    has_ground_truth: bool,
    checkpoint_set: str | None = None,
) -> tuple[dict[str, Editor], dict[str, str]]:
    """(editors that loaded, {name: why not} for those that could not).

    Trained editors without an explicit checkpoint load the one shipped in
    ``checkpoint_set`` (the protocol's); one missing from that set is unavailable.
    """
    loaded: dict[str, Editor] = {}
    unavailable: dict[str, str] = {}
    for name in names:
        cls = resolve_editor(name)  # a missing user module: a named error
        if getattr(cls, "needs_ground_truth", False) and not has_ground_truth:
            unavailable[name] = "needs ground-truth targets, which this protocol does not have"
            continue
        try:
            editor = build_registered_editor(  # a class, or a user's instance or callable
                name,
                checkpoint=checkpoints.get(name),
                resolution=resolution,
                device=device,
                checkpoint_set=checkpoint_set,
            )
        except (EditorLoadError, FileNotFoundError) as err:
            unavailable[name] = str(err)
            continue
        editor.name = name
        loaded[name] = editor.to(device)
    return loaded, unavailable


def editor_group(name: str) -> str:
    return str(plugins.editors.meta(name).get("group", "external")) if name in plugins.editors else "external"
