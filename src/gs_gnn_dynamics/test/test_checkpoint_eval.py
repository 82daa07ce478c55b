import json

import numpy as np
import pytest
import torch

from gs_common.episode import save_trajectories
from gs_common.pointsets import chamfer_distance
from gs_gnn_dynamics.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gs_gnn_dynamics.config import DynamicsConfig
from gs_gnn_dynamics.evaluate import contact_rigid_baseline, evaluate, masked_chamfer
from gs_gnn_dynamics.model import ParticleDynamics
from gs_gnn_dynamics.synthetic import synthetic_push
from gs_gnn_dynamics.train import TrainOptions, train


def test_checkpoint_round_trip(tmp_path):
    model = ParticleDynamics(DynamicsConfig(hidden=8, topk=4))
    path = save_checkpoint(tmp_path / "m", model, {"note": "x"})
    assert path.name == "m.safetensors" and (tmp_path / "m.json").is_file()
    loaded, doc = load_checkpoint(tmp_path / "m.json")
    assert loaded.cfg == model.cfg and doc["metadata"]["note"] == "x"
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing")
    (tmp_path / "m.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(CheckpointError, match="is not a"):
        load_checkpoint(tmp_path / "m")


def test_train_cli_core_resumes_and_eval_reports(tmp_path):
    data = tmp_path / "data"
    for i in range(4):
        save_trajectories(data / f"ep{i}.npz", synthetic_push(i))
    cfg = DynamicsConfig(hidden=16)
    opts = TrainOptions(
        epochs=2, batch_size=16, seed=1, device="cpu", progress=False, val_fraction=0.25
    )
    train(data, tmp_path / "run", cfg, opts, log=lambda *_: None)
    lines = (tmp_path / "run/log.jsonl").read_text().splitlines()
    assert (tmp_path / "run/loss.png").stat().st_size > 0  # the loss curves next to the log
    assert len(lines) == 2
    opts.epochs = 3
    summary = train(data, tmp_path / "run", cfg, opts, resume=True, log=lambda *_: None)
    assert [e["epoch"] for e in summary["epochs"]] == [3]
    model, doc = load_checkpoint(tmp_path / "run/model")
    assert doc["metadata"]["val_episodes"]
    report = evaluate(model, data, horizon=6)
    assert set(report["methods"]) == {"model", "static", "contact_rigid"}
    assert len(report["methods"]["model"]["chamfer"]) == 6
    # the kinematic synthetic push is exactly the contact-rigid baseline's motion model
    assert report["methods"]["static"]["chamfer"][-1] > report["methods"]["static"]["chamfer"][0]


def test_masked_chamfer_and_contact_baseline():
    rng = np.random.default_rng(0)
    a = torch.as_tensor(rng.normal(size=(2, 8, 3)))
    b = torch.as_tensor(rng.normal(size=(2, 8, 3)))
    mask = torch.ones(2, 8, dtype=torch.bool)
    mask[1, 5:] = False
    cd = masked_chamfer(a, b, mask)
    assert cd[0] == pytest.approx(float(chamfer_distance(a[0], b[0])))
    assert cd[1] == pytest.approx(float(chamfer_distance(a[1, :5], b[1, :5])))
    start = torch.tensor([[[0.0, 0, 0], [0.2, 0, 0]]])
    tool = torch.tensor([[[0.0, -0.02, 0.005], [0.0, -0.01, 0.005]]])
    out = contact_rigid_baseline(start, tool, 0.03)
    torch.testing.assert_close(out[0, 1], torch.tensor([[0.0, 0.01, 0], [0.2, 0, 0]]))
