"""The viewers' configuration files: RViz config, Foxglove layout, stack wiring.

rviz2 is not installable on the PyPI-only setup, so the RViz config is checked for what can
go wrong without rviz: it parses as YAML, uses RViz 2's default display plugins, shows
topics that the stack publishes, in `world`, with the QoS their publishers use (a reliable
display never receives a best-effort topic; a latched topic needs transient local).
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from gs_viz.topics import all_topics
from ros_harness import REPO

RVIZ = REPO / "rviz" / "planning.rviz"
LAYOUT = REPO / "config" / "foxglove" / "planning_layout.json"
RVIZ_QOS = {
    "sensor": ("Best Effort", "Volatile"),
    "state": ("Reliable", "Volatile"),
    "latched": ("Reliable", "Transient Local"),
}
KNOWN_DISPLAYS = {
    "rviz_default_plugins/Grid",
    "rviz_default_plugins/TF",
    "rviz_default_plugins/MarkerArray",
    "rviz_default_plugins/PointCloud2",
    "rviz_default_plugins/Image",
}


def _published_in_source(topic: str) -> bool:
    """The topic (relative name) is created by a publisher in some package's node code, or
    is a camera topic template (sim/realsense publish cameras/<cam>/...)."""
    rel = topic.lstrip("/")
    rel = re.sub(r"/cam\d/", "/{cam}/", rel)
    rel = re.sub(r"/cam\d$", "/{cam}", rel)
    text = "\n".join(p.read_text() for p in (REPO / "src").glob("*/*/*_node.py"))
    text += (REPO / "src/gs_dynamics/gs_dynamics/monitor.py").read_text()  # the contract
    return rel in text or rel.replace("{cam}", "{name}") in text or rel.split("/")[-1] in text


def test_rviz_config_is_wellformed_and_shows_existing_topics():
    cfg = yaml.safe_load(RVIZ.read_text())
    vm = cfg["Visualization Manager"]
    assert vm["Global Options"]["Fixed Frame"] == "world"
    known = {t.name: t for t in all_topics()}
    seen = set()
    for display in vm["Displays"]:
        assert display["Class"] in KNOWN_DISPLAYS, display["Class"]
        if "Topic" not in display:
            continue
        topic = display["Topic"]["Value"]
        assert topic in known, f"{display['Name']}: {topic} is not a topic of the stack"
        assert _published_in_source(topic), topic
        want = RVIZ_QOS[known[topic].qos]
        got = (display["Topic"]["Reliability Policy"], display["Topic"]["Durability Policy"])
        assert got == want, f"{display['Name']} ({topic}): QoS {got}, publisher {want}"
        seen.add(topic)
    assert {"/viz/plan", "/viz/target", "/viz/workspace", "/viz/particles"} <= seen


def test_foxglove_layout_file_is_current_and_names_existing_topics():
    from gs_viz.layout import layout_json

    assert LAYOUT.read_text() == layout_json(), "run `gs-viz layout` to regenerate"
    text = LAYOUT.read_text()
    layout = json.loads(text)
    assert layout["content"]["type"] == "split"
    topics = set(re.findall(r'"(/[a-z_]+/[A-Za-z0-9_/]+)', text))
    known = {t.name for t in all_topics()}
    assert {t.split(".")[0] for t in topics} <= known
    for cam in ("cam0", "cam1", "cam2", "cam3"):
        assert f'"/cameras/{cam}/color/image_raw"' in text
        assert f'"/dynamics/predicted_image/{cam}"' in text
    assert '"panelType": "ThreeDee"' in text and '"/viz/plan"' in text


@pytest.mark.parametrize(
    "args, expected",
    [
        ({}, set()),
        ({"viz": "markers"}, {"viz_markers"}),
        ({"viz": "foxglove"}, {"viz_markers", "foxglove_bridge"}),
        ({"rviz": "true"}, {"viz_markers"}),
    ],
)
def test_stack_arguments_start_the_viz_nodes(args, expected):
    from gs_dynamics.runner import load_node_class
    from gs_dynamics.stacks import resolve, rviz_config

    for stack in ("planning", "sim"):
        nodes = {n.name: n for n in resolve(stack, args)}
        assert {"viz_markers", "foxglove_bridge"} & set(nodes) == expected
        for name in expected:
            assert load_node_class(nodes[name]).__module__.startswith("gs_viz.")
            assert all(p.endswith("viz.yaml") for p in nodes[name].parameter_files)
    assert rviz_config().is_file()


def test_viz_yaml_matches_the_nodes_parameters():
    from gs_viz.foxglove_bridge_node import PARAMS as BRIDGE
    from gs_viz.markers_node import PARAMS as MARKERS

    cfg = yaml.safe_load((REPO / "config" / "viz.yaml").read_text())
    for node, params in (("viz_markers", MARKERS), ("foxglove_bridge", BRIDGE)):
        values = cfg[node]["ros__parameters"]
        specs = {p.name: p for p in params}
        assert set(values) <= set(specs), set(values) - set(specs)
        for name, value in values.items():
            assert specs[name].validate(value) is None, (name, value)
