import pytest

from qa_service.pipeline.normalise import NormaliseError
from qa_service.pipeline.yaml_source import compose, where


def test_invalid_yaml_names_its_line() -> None:
    with pytest.raises(NormaliseError) as exc:
        compose("words:\n  a: b\n  c: [d\n", "x/normalise.yaml", NormaliseError)
    assert exc.value.problems[0].startswith("x/normalise.yaml:")
    assert "not valid YAML" in exc.value.problems[0]


def test_every_node_knows_its_line() -> None:
    root = compose("replace:\n  咋: 怎么\n", "n.yaml", NormaliseError)
    assert root is not None
    key, value = root.value[0]
    assert where("n.yaml", key) == "n.yaml:1"
    assert where("n.yaml", value.value[0][1]) == "n.yaml:2"
    assert compose("", "n.yaml", NormaliseError) is None
