import pytest

from faceedit_bench import plugins
from faceedit_bench.registry import Registry, RegistryError


class Base:
    pass


class Impl(Base):
    pass


def test_register_get_alias_and_lazy_entry():
    reg: Registry = Registry("widget", base=Base)
    reg.register("impl", Impl, aliases=("impl-alias",), help="x")
    reg.register("lazy", "tests.test_registry:Impl")
    assert reg.get("impl") is Impl
    assert reg.get("impl-alias") is Impl
    assert reg.canonical("impl-alias") == "impl"
    assert reg.meta("impl") == {"help": "x"}
    assert reg.names() == ["impl", "lazy"]
    assert "impl-alias" in reg and "nope" not in reg


def test_lazy_entry_resolves_module_attr():
    reg: Registry = Registry("widget")
    reg.register("psnr", "faceedit_bench.harness.stats.bootstrap:bootstrap_mean_ci")
    from faceedit_bench.harness.stats.bootstrap import bootstrap_mean_ci

    assert reg.get("psnr") is bootstrap_mean_ci


def test_duplicate_and_alias_collision_fail():
    reg: Registry = Registry("widget")
    reg.register("a", Impl, aliases=("b",))
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("a", Impl)
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("c", Impl, aliases=("b",))


def test_unknown_name_lists_known_and_suggests():
    reg: Registry = Registry("editor")
    reg.register("two-stage", Impl)
    reg.register("ganimation", Impl)
    with pytest.raises(RegistryError) as err:
        reg.get("two-stag")
    msg = str(err.value)
    assert "unknown editor 'two-stag'" in msg
    assert "Did you mean 'two-stage'" in msg
    assert "ganimation, two-stage" in msg


@pytest.mark.parametrize("bad", ["Two", "a b", "../x", "", "x/y"])
def test_invalid_names_rejected(bad):
    with pytest.raises(RegistryError, match="invalid"):
        Registry("widget").register(bad, Impl)


def test_lazy_entry_must_be_module_attr_and_base_checked():
    reg: Registry = Registry("widget", base=Base)
    with pytest.raises(RegistryError, match="module:attr"):
        reg.register("x", "no_colon")
    reg.register("wrong", "faceedit_bench.registry:Registry")
    with pytest.raises(RegistryError, match="is not a Base"):
        reg.get("wrong")


def test_one_registry_per_plugin_kind():
    assert set(plugins.ALL) == {
        "editors", "datasets", "protocols", "au_detectors",
        "identity_models", "feature_extractors", "lpips_models", "metrics", "recipes",
    }  # fmt: skip
    assert {"identity", "oracle", "two-stage", "ganimation", "warp-only"} <= set(plugins.editors.names())
    assert {"aurig-smoke", "aurig-demo", "aurig-paper", "video-reenact"} <= set(plugins.protocols.names())
