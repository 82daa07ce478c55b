"""The server side of ``robot/execute_push`` (gs_dynamics_interfaces/action/ExecutePush),
one policy for every server (the simulator, the push executor): every goal and every cancel
request is accepted (the execute callback validates the push and rejects it with a result
naming the value), goals run on a reentrant group so that feedback and cancels keep flowing.
"""

from __future__ import annotations

from collections.abc import Callable

from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup

from gs_common.names import EXECUTE_PUSH_ACTION
from gs_dynamics_interfaces.action import ExecutePush


def serve_execute_push(node, execute_callback: Callable) -> ActionServer:
    """An ExecutePush action server of ``node`` on :data:`EXECUTE_PUSH_ACTION` (relative: a
    remap such as ``robot/execute_push:=sim/execute_push`` applies)."""
    return ActionServer(
        node,
        ExecutePush,
        EXECUTE_PUSH_ACTION,
        execute_callback=execute_callback,
        goal_callback=lambda _goal: GoalResponse.ACCEPT,
        cancel_callback=lambda _goal: CancelResponse.ACCEPT,
        callback_group=ReentrantCallbackGroup(),
    )
