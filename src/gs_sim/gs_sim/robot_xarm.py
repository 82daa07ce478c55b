"""xArm7 with a cylindrical pusher, loaded offline from ``example-robot-data``'s ``xarm7.urdf``.

The URDF's visual meshes (STL) are kept for rendering; its collision copies are dropped and
the arm links do not collide (the arm is position-driven kinematically along the push, like
a stiff industrial controller). Only the pusher cylinder touches the object.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from pathlib import Path

import mujoco

URDF_RELPATH = "share/example-robot-data/robots/xarm_description/urdf/xarm7.urdf"
PACKAGE_PREFIX = "package://example-robot-data/robots/xarm_description/"
JOINT_NAMES = tuple(f"joint{i}" for i in range(1, 8))
ARM_PREFIX = "arm/"
FLANGE_BODY = "link_eef"
TIP_SITE = "pusher_tip"
PUSHER_GEOM = "pusher"

#: A comfortable posture above the table (rad), used as IK seed and null-space target.
HOME_QPOS = (0.0, -0.35, 0.0, 0.55, 0.0, 0.9, 0.0)


@dataclasses.dataclass(frozen=True)
class PusherTool:
    """Cylindrical pusher on the flange, along the flange z axis.

    radius, length [m]; the tip is the end of the cylinder, ``length`` from the flange.
    """

    radius: float = 0.012
    length: float = 0.12


def find_xarm7_urdf() -> Path:
    """Locate ``xarm7.urdf`` of the installed ``example-robot-data`` wheel (cmeel prefix).

    ``GS_SIM_XARM7_URDF`` overrides the search.
    """
    override = os.environ.get("GS_SIM_XARM7_URDF")
    if override:
        path = Path(override)
        if not path.is_file():
            raise FileNotFoundError(f"GS_SIM_XARM7_URDF={override} is not a file")
        return path
    candidates = [Path(p) / "cmeel.prefix" / URDF_RELPATH for p in sys.path if p]
    candidates.append(Path(sys.prefix) / "lib" / "cmeel.prefix" / URDF_RELPATH)
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(
        "xarm7.urdf not found: install example-robot-data (pip install example-robot-data) "
        "or set GS_SIM_XARM7_URDF"
    )


def xarm7_spec(tool: PusherTool = PusherTool()) -> mujoco.MjSpec:
    """MjSpec of the xArm7 (visual meshes, no link collisions) with the pusher tool."""
    urdf = find_xarm7_urdf()
    root = urdf.parent.parent  # .../xarm_description
    text = urdf.read_text()
    text = text.replace(PACKAGE_PREFIX, str(root) + "/")
    text = re.sub(r"<ros2_control.*?</ros2_control>", "", text, flags=re.S)
    text = re.sub(
        r"(<robot[^>]*>)",
        r'\1<mujoco><compiler discardvisual="false" fusestatic="false" strippath="false"/>'
        r"</mujoco>",
        text,
        count=1,
    )
    spec = mujoco.MjSpec.from_string(text)
    for geom in list(spec.geoms):
        if geom.contype != 0 or geom.conaffinity != 0:  # the URDF's collision copy
            spec.delete(geom)
    for body in spec.bodies:
        if body.name != "world":
            body.gravcomp = 1.0
    flange = spec.body(FLANGE_BODY)
    flange.add_geom(
        name=PUSHER_GEOM,
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        size=[tool.radius, tool.length / 2, 0],
        pos=[0, 0, tool.length / 2],
        rgba=[0.15, 0.15, 0.18, 1],
        contype=2,
        conaffinity=1,
        condim=3,
        friction=[0.5, 0.005, 0.0001],
        group=1,
        mass=0.05,
    )
    flange.add_site(name=TIP_SITE, pos=[0, 0, tool.length], size=[0.004, 0, 0])
    return spec
