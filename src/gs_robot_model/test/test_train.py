"""Data generation, staged training, checkpoints (safetensors + JSON), exact resumption,
evaluation and the CLI's error messages, on a tiny dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip("mujoco", reason="MuJoCo is not installed")

from gs_robot_model import checkpoint as ckpt
from gs_robot_model.cli import main as cli_main
from gs_robot_model.data import generate, load_dataset
from gs_robot_model.evaluate import EvalConfig, evaluate, format_table
from gs_robot_model.model import ModelConfig
from gs_robot_model.robots import get_robot
from gs_robot_model.train import TrainConfig, train


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp("robot_data")
    robot = get_robot("xarm7")
    generate(robot, d / "train.npz", 3, 2, 32, 32, 45.0, seed=0, canonical_configs=1)
    generate(robot, d / "test.npz", 2, 2, 32, 32, 45.0, seed=1000)
    return d


def test_dataset_contents(tiny_data):
    ds = load_dataset(tiny_data / "train.npz")
    assert ds["rgb"].shape == (4, 2, 32, 32, 3) and ds["rgb"].dtype == np.uint8
    assert ds["canonical"].tolist() == [True, False, False, False]
    assert np.all(ds["q"][0] == 0) and np.any(ds["q"][1] != 0)
    assert ds["mask"].any() and (ds["depth"][ds["mask"]] > 0.3).all()
    assert not ds["depth"][~ds["mask"]].any()
    # the robot is lit: robot pixels are brighter than the black background
    assert ds["rgb"][ds["mask"]].mean() > 40 and ds["rgb"][~ds["mask"]].max() == 0


def test_training_resumes_exactly_and_evaluates(tiny_data, tmp_path):
    mc = ModelConfig(num_gaussians=200)
    tc = TrainConfig(
        canonical_iters=2, skinning_iters=2, joint_iters=2, lbs_warmup=5, checkpoint_every=3
    )
    train(tiny_data / "train.npz", tmp_path / "a", mc, tc, resume=False, threads=1)
    # interrupted run: stop after 3 of the 6 steps (checkpoint), then resume to the end
    train(
        tiny_data / "train.npz", tmp_path / "c", mc,
        TrainConfig(**{**tc.__dict__, "joint_iters": 0, "skinning_iters": 1}),
        resume=False, threads=1,
    )  # fmt: skip
    assert json.loads((tmp_path / "c" / ckpt.CONFIG).read_text())["train"]["step"] == 3
    assert (tmp_path / "c" / "loss.png").is_file() and (tmp_path / "c" / ckpt.OPTIM).is_file()
    train(tiny_data / "train.npz", tmp_path / "c", mc, tc, resume=True, threads=1)
    a, _ = ckpt.load_model(tmp_path / "a")
    c, info_c = ckpt.load_model(tmp_path / "c")
    assert info_c["train"]["step"] == 6
    for (name, pa), (_, pc) in zip(a.state_dict().items(), c.state_dict().items()):
        torch.testing.assert_close(pa, pc, msg=f"{name} differs after resuming")
    r = evaluate(a, tiny_data / "test.npz", tmp_path / "eval", EvalConfig(
        chamfer_points=500, pose_configs=1, pose_iters=2, strip_configs=1))  # fmt: skip
    assert (tmp_path / "eval" / "eval.json").is_file()
    assert (tmp_path / "eval" / "eval_strip.png").is_file()
    assert r["num_configs"] == 2 and 0.0 <= r["mask_iou"]["mean"] <= 1.0
    assert "PSNR" in format_table(r)


def test_cli_reports_bad_input(tmp_path, capsys):
    assert cli_main(["eval", "--model", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main(["data", "--res", "-3"])
