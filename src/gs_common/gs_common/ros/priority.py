"""CPU priority of a node process: the camera source first, perception on what is left.

On a machine with fewer cores than busy processes (the planning stack on 2 cores: the
simulator renders 4 cameras, segmentation, tracking and robot masks all want a core), the
kernel shares the CPU evenly and the simulator, which stands for camera hardware, falls
behind its frame rate. Perception nodes declare ``nice`` (the :data:`NICE_PARAM`) and call
:func:`apply_nice`: they then run on the CPU the source and the planner leave, dropping
frames (counted in their logs) instead of slowing the cameras down. The middleware's own
threads (started by ``rclpy.init``) keep their priority. The same nodes declare
:data:`MAX_RATE_PARAM` to process only a fixed, shared subset of the frames
(:class:`gs_common.frame_gate.StampGate`).
"""

from __future__ import annotations

import os

from gs_common.ros.params import ParamSpec

NICE_PARAM = ParamSpec(
    "nice",
    0,
    "niceness (0-19, Linux nice) of the node's threads: > 0 lets the camera source and the "
    "planner run first when the CPU is short; this node then drops frames (counted) instead "
    "of slowing them down. Only raised, never lowered (no privileges needed)",
    range=(0, 19),
    read_only=True,
)


MAX_RATE_PARAM = ParamSpec(
    "max_rate",
    0.0,
    "process at most this many camera frames per second of stamp time [Hz], chosen by stamp "
    "(gs_common.frame_gate: robot_model, segmentation and tracking with the same value pick "
    "the same frames); the other frames are skipped before any decoding (0: every frame)",
    range=(0.0, 1000.0),
    read_only=True,
)


def apply_nice(nice: int) -> int:
    """Raise the niceness of the calling thread to ``nice`` (never lowers it); the niceness
    now. On Linux niceness is per thread and inherited by the threads it starts later: a
    node calls this in ``__init__`` before it starts its worker threads (and before
    run_node creates the executor's), or from the worker thread itself."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if nice > current:
        os.setpriority(os.PRIO_PROCESS, 0, int(nice))
    return os.getpriority(os.PRIO_PROCESS, 0)
