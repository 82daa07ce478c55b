import pytest

from gs_dynamics.runner import main as runner_main
from gs_dynamics.stacks import StackError, parse_overrides, resolve
from gs_dynamics.topic_stats import TopicStats, format_table


def test_unknown_stack_argument_and_value_are_rejected():
    with pytest.raises(StackError, match="unknown stack 'nope'"):
        resolve("nope")
    with pytest.raises(StackError, match="unknown argument 'sourse'"):
        resolve("planning", {"sourse": "sim"})
    with pytest.raises(StackError, match=r"source:=kinect is not one of"):
        resolve("planning", {"source": "kinect"})
    with pytest.raises(StackError, match="name:=value"):
        parse_overrides(["source=sim"])


def test_integer_arguments_are_checked_and_passed_as_integers():
    sims = [n for n in resolve("planning", {"seed": "7", "rope_shape": "u"}) if n.name == "sim"]
    assert sims[0].parameters == {"seed": 7, "rope_shape": "u"}
    assert isinstance(sims[0].parameters["seed"], int)
    with pytest.raises(StackError, match=r"seed:=7.5 is not an integer"):
        resolve("planning", {"seed": "7.5"})
    with pytest.raises(StackError, match=r"rope_shape:=w is not one of"):
        resolve("planning", {"rope_shape": "w"})


def test_ros_args_carry_name_params_and_remaps():
    node = resolve("planning")[-1]
    args = node.ros_args()
    assert args[:3] == ["--ros-args", "-r", "__node:=planner"]
    assert "--params-file" in args and args[args.index("--params-file") + 1].endswith(
        "planner.yaml"
    )
    assert "device:=auto" in args and "oracle_state:=false" in args


def test_runner_reports_bad_arguments_with_exit_code_2(capsys):
    assert runner_main(["planning", "source:=kinect"]) == 2
    assert "source:=kinect" in capsys.readouterr().err


def test_topic_stats_rate_and_table():
    s = TopicStats()
    for i in range(11):
        s.add(100.0 + i * 0.1)
    assert s.rate() == pytest.approx(10.0)
    table = format_table({"a/b": s, "c": TopicStats()}, now=102.0)
    assert "never" in table and "a/b" in table and "10.0" in table


def test_planning_tracks_segmentation_masks_unless_oracle_masks():
    default = {n.name: n for n in resolve("planning")}
    assert "segmentation" in default and not default["tracking"].remappings
    oracle = {n.name: n for n in resolve("planning", {"oracle_masks": "true"})}
    assert "segmentation" not in oracle
    remaps = dict(oracle["tracking"].remappings)
    for cam in ("cam0", "cam3"):
        for mask in ("object_mask", "robot_mask"):
            assert remaps[f"cameras/{cam}/{mask}"] == f"sim/ground_truth/{cam}/{mask}"
