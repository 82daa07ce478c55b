"""gs_sim: MuJoCo workcell (table, deformable object, xArm7 pusher, four RGB-D cameras).

Headless rendering: ``MUJOCO_GL`` defaults to ``egl`` (Mesa llvmpipe on a machine without
GPU); it must be set before ``mujoco`` is imported, hence here.
"""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
