"""Every registered metric resolves to a class whose metadata the harness can rely on."""

import pytest

from faceedit_bench import plugins
from faceedit_bench.api.metric import Metric


@pytest.mark.parametrize("name", plugins.metrics.names())
def test_registered_metric_metadata(name):
    cls = plugins.metrics.get(name)
    assert issubclass(cls, Metric) and cls.name == name
    metric = cls(backend_label="some-backend")
    keys = metric.keys()
    assert keys and set(metric.primary_keys()) <= set(keys)
    assert all(isinstance(v, bool) for v in keys.values())
    assert cls.backend_kind is None or cls.backend_kind in plugins.BACKEND_REGISTRIES
    assert cls.description
    if not cls.per_sample:
        assert cls.backend_kind == "fid_features"
        assert metric.state() == {} or all(v.numel() == 0 for v in metric.state().values())
