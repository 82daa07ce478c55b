from pathlib import Path

import numpy as np
import pytest

from gs_gnn_dynamics.checkpoint import save_checkpoint
from gs_gnn_dynamics.config import DynamicsConfig
from gs_gnn_dynamics.model import ParticleDynamics
from gs_gnn_dynamics.predictor import InvalidRequestError, Predictor, shipped_checkpoint


@pytest.fixture
def predictor(tmp_path):
    save_checkpoint(tmp_path / "m", ParticleDynamics(DynamicsConfig(hidden=8)))
    return Predictor(tmp_path / "m", "cpu", 0, max_steps=50)


def test_predict_and_validation(predictor):
    pts = np.stack([np.linspace(-0.2, 0.2, 30), np.zeros(30), np.full(30, 0.008)], 1)
    pos, _, _ = predictor.predict(pts, np.array([[0.0, -0.05, np.pi / 2, 0.1]]))
    assert pos.shape[0] == 11 and 8 <= pos.shape[1] <= 16 and np.isfinite(pos).all()
    cases = [
        (np.zeros((0, 3)), "empty"),
        (pts[:3], "at least 4"),
        (np.where(np.arange(30)[:, None] == 4, np.nan, pts), "non-finite points"),
        (np.zeros((10, 3)), "less than the particle spacing"),
    ]
    for bad, msg in cases:
        with pytest.raises(InvalidRequestError, match=msg):
            predictor.predict(bad, np.array([[0.0, 0.0, 0.0, 0.1]]))
    for pushes, msg in [
        (np.zeros((0, 4)), "no pushes"),
        (np.array([[0.0, np.inf, 0.0, 0.1]]), "non-finite"),
        (np.array([[0.0, 0.0, 0.0, -0.1]]), "must be > 0"),
        (np.array([[0.0, 0.0, 0.0, 0.9]]), "at most 50"),
    ]:
        with pytest.raises(InvalidRequestError, match=msg):
            predictor.predict(pts, pushes)


def test_shipped_model_exists():
    assert shipped_checkpoint().with_suffix(".safetensors").name == "rope.safetensors"


def test_checkpoint_names_resolve_to_shipped_models(tmp_path, monkeypatch):
    from gs_gnn_dynamics.predictor import resolve_checkpoint

    assert resolve_checkpoint("") == shipped_checkpoint()
    assert resolve_checkpoint("rope") == shipped_checkpoint("rope")
    assert resolve_checkpoint(tmp_path / "m") == tmp_path / "m"  # a path stem stays a path
    assert resolve_checkpoint("no_such_model") == Path("no_such_model")  # reported on load
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rope.json").write_text("{}")  # a local file of that name wins
    assert resolve_checkpoint("rope") == Path("rope")
