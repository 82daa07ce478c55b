"""The Foxglove layout of the planning stack, built with foxglove-sdk's layout classes.

``gs-viz layout`` writes it to ``config/foxglove/planning_layout.json`` (committed; a test
keeps the file equal to what this module builds; the bringup installs it with config/).
Left: the 3D scene in ``world`` (TF, object cloud, tracked particles, markers: plan,
target, workspace, particles + graph edges) above the four camera streams. Right, in
tabs: the predicted images of the four cameras and the plan (pushes and predicted cost of
``dynamics/predicted_states``, the planner's best cost from the action feedback).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import foxglove.layouts as fl

from gs_common.names import WORLD_FRAME
from gs_viz.topics import CAMERAS, CLOUD_TOPICS, VIZ_TOPICS, camera_topics, predicted_image_topics


def _scene_panel() -> fl.ThreeDeePanel:
    topics: dict = {t.name: fl.BaseRendererRosMarkerTopicSettings(visible=True) for t in VIZ_TOPICS}
    clouds = {
        "/perception/object_cloud": (True, "#c8c8c8", 2.0),
        "/tracking/gaussians": (False, "#ffaa00", 2.0),
        "/tracking/particles": (False, "#2673ff", 6.0),  # drawn by viz/particles already
        "/planner/target": (False, "#1ad940", 5.0),  # drawn by viz/target already
    }
    assert set(clouds) == {t.name for t in CLOUD_TOPICS}
    for name, (visible, color, size) in clouds.items():
        topics[name] = fl.BaseRendererPointCloudTopicSettings(
            visible=visible, color_mode="flat", flat_color=color, point_size=size
        )
    return fl.ThreeDeePanel(
        title="Workcell (world)",
        config=fl.ThreeDeeConfig(
            follow_tf=WORLD_FRAME,
            follow_mode="follow-pose",
            camera_state=fl.ThreeDeeCameraState(
                distance=1.1, phi=50.0, theta_offset=-135.0, target=(0.0, 0.0, 0.02), fovy=45.0
            ),
            layers={
                "grid": fl.BaseRendererGridLayerSettings(
                    frame_id=WORLD_FRAME, size=1.0, divisions=20, line_width=1.0, color="#a0a0a4"
                )
            },
            topics=topics,
        ),
    )


def _image_panel(topic: str, title: str) -> fl.ImagePanel:
    return fl.ImagePanel(
        title=title, config=fl.ImageConfig(image_mode=fl.ImageModeConfig(image_topic=topic))
    )


def build_layout(cameras=CAMERAS) -> fl.Layout:
    cams = fl.SplitContainer(
        direction="row",
        items=[
            fl.SplitItem(content=_image_panel(t.name, f"camera {c}"))
            for t, c in zip(camera_topics(cameras), cameras, strict=True)
        ],
    )
    predicted = fl.SplitContainer(
        direction="column",
        items=[
            fl.SplitItem(content=_image_panel(t.name, f"predicted {c}"))
            for t, c in zip(predicted_image_topics(cameras), cameras, strict=True)
        ],
    )
    plan = fl.SplitContainer(
        direction="column",
        items=[
            fl.SplitItem(
                content=fl.RawMessagesPanel(
                    title="planned pushes (x, y, theta, length)",
                    config=fl.RawMessagesConfig(
                        topic_path="/dynamics/predicted_states.pushes", expansion="all"
                    ),
                )
            ),
            fl.SplitItem(
                content=fl.RawMessagesPanel(
                    title="predicted cost after each push",
                    config=fl.RawMessagesConfig(topic_path="/dynamics/predicted_states.cost"),
                )
            ),
            fl.SplitItem(
                content=fl.RawMessagesPanel(
                    title="planner: best predicted cost (planner/plan feedback)",
                    config=fl.RawMessagesConfig(
                        topic_path="/planner/plan/_action/feedback.feedback.best_cost"
                    ),
                )
            ),
        ],
    )
    left = fl.SplitContainer(
        direction="column",
        items=[
            fl.SplitItem(proportion=2.5, content=_scene_panel()),
            fl.SplitItem(proportion=1.0, content=cams),
        ],
    )
    right = fl.TabContainer(
        tabs=[
            fl.TabItem(title="Predicted images", content=predicted),
            fl.TabItem(title="Plan", content=plan),
        ]
    )
    return fl.Layout(
        content=fl.SplitContainer(
            direction="row",
            items=[fl.SplitItem(proportion=3.0, content=left), fl.SplitItem(content=right)],
        )
    )


def layout_json(cameras=CAMERAS) -> str:
    """The layout as indented JSON text (stable key order, for a readable diff)."""
    return json.dumps(json.loads(build_layout(cameras).to_json()), indent=2) + "\n"


def write_layout(path: Path, cameras=CAMERAS) -> Path:
    """Write the layout atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(layout_json(cameras))
    os.replace(tmp, path)
    return path
