"""Robot descriptions: URDF location, end link, joint order and pusher tool. ROS-free.

Built-in presets read the URDFs of the ``example-robot-data`` wheel (cmeel prefix): the
paper's xArm7 and the Franka Panda. Any other arm: give ``urdf_path`` and ``end_link``.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

ROBOTS_RELPATH = "cmeel.prefix/share/example-robot-data/robots"

#: preset -> (URDF path relative to example-robot-data's robots/, end link, home posture)
PRESETS: dict[str, tuple[str, str, tuple[float, ...]]] = {
    "xarm7": (
        "xarm_description/urdf/xarm7.urdf",
        "link_eef",
        (0.0, -0.35, 0.0, 0.55, 0.0, 0.9, 0.0),
    ),
    "panda": (
        "panda_description/urdf/panda.urdf",
        "panda_link8",
        (0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785),
    ),
}


def example_robot_data_dir() -> Path:
    """``.../cmeel.prefix/share/example-robot-data/robots`` of the installed wheel."""
    for entry in [*sys.path, str(Path(sys.prefix) / "lib")]:
        path = Path(entry or ".") / ROBOTS_RELPATH
        if path.is_dir():
            return path
    raise FileNotFoundError(
        "example-robot-data is not installed (pip install example-robot-data); "
        "or give the parameter urdf_path"
    )


@dataclasses.dataclass(frozen=True)
class RobotDescription:
    """What the executor needs to know about the arm.

    urdf_text: the URDF (XML); end_link: the flange link the pusher is mounted on;
    tool_offset: (3,) pusher tip in the end link's frame [m] (the tool axis is the end
    link's z axis); home: (n,) comfortable joint posture [rad] (IK fallback seed);
    base_xyz: (3,) arm base position in ``world`` [m]; base_yaw: base rotation about z [rad].
    """

    urdf_text: str
    end_link: str
    tool_offset: tuple[float, float, float]
    home: tuple[float, ...]
    base_xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)
    base_yaw: float = 0.0


def load_robot(
    robot: str = "xarm7",
    urdf_path: str = "",
    end_link: str = "",
    tool_length: float = 0.12,
    base_xyz=(-0.40, 0.0, 0.0),
    base_yaw: float = 0.0,
    home=(),
) -> RobotDescription:
    """A :class:`RobotDescription` from a preset name or an explicit URDF path.

    ``tool_length`` [m]: pusher tip distance from the end link along its z axis.
    Raises ValueError / FileNotFoundError naming the offending value.
    """
    if urdf_path:
        path = Path(urdf_path)
        if not path.is_file():
            raise FileNotFoundError(f"urdf_path = {urdf_path!r} is not a file")
        if not end_link:
            raise ValueError("end_link must be given with urdf_path")
        preset_home: tuple[float, ...] = ()
    else:
        if robot not in PRESETS:
            raise ValueError(f"robot = {robot!r} is not one of {sorted(PRESETS)}")
        rel, preset_link, preset_home = PRESETS[robot]
        path = example_robot_data_dir() / rel
        end_link = end_link or preset_link
    if not 0.0 <= tool_length <= 1.0:
        raise ValueError(f"tool_length = {tool_length} m must be in [0, 1]")
    return RobotDescription(
        urdf_text=path.read_text(),
        end_link=end_link,
        tool_offset=(0.0, 0.0, float(tool_length)),
        home=tuple(float(v) for v in (home or preset_home)),
        base_xyz=tuple(float(v) for v in base_xyz),
        base_yaw=float(base_yaw),
    )
