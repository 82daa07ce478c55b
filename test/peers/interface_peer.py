"""Peer process for test_interfaces_roundtrip.py: echoes every custom interface.

- topics: republishes CameraRig, PredictedStates and Push from echo/<type>/in on
  echo/<type>/out (rig with transient-local durability);
- service echo/predict (PredictRollout): one predicted step per push, or INVALID_REQUEST
  with a message when the request has no pushes;
- actions echo/plan (Plan) and echo/execute_push (ExecutePush): one feedback per
  iteration (max_pushes iterations for Plan), honouring cancel requests.
"""

import threading

import rclpy
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node

from gs_common.ros.qos import LATCHED_QOS, STATE_QOS
from gs_dynamics_interfaces.action import ExecutePush, Plan
from gs_dynamics_interfaces.msg import CameraRig, PredictedStates, Push
from gs_dynamics_interfaces.srv import PredictRollout


class InterfacePeer(Node):
    def __init__(self):
        super().__init__("interface_peer")
        group = ReentrantCallbackGroup()
        for name, msg_type, qos in (
            ("rig", CameraRig, LATCHED_QOS),
            ("predicted", PredictedStates, STATE_QOS),
            ("push", Push, STATE_QOS),
        ):
            pub = self.create_publisher(msg_type, f"echo/{name}/out", qos)
            self.create_subscription(
                msg_type, f"echo/{name}/in", lambda msg, p=pub: p.publish(msg), qos
            )
        self.create_service(PredictRollout, "echo/predict", self.predict)
        self._stop = threading.Event()
        ActionServer(
            self,
            Plan,
            "echo/plan",
            execute_callback=self.plan,
            goal_callback=lambda _g: GoalResponse.ACCEPT,
            cancel_callback=lambda _g: CancelResponse.ACCEPT,
            callback_group=group,
        )
        ActionServer(
            self,
            ExecutePush,
            "echo/execute_push",
            execute_callback=self.execute_push,
            cancel_callback=lambda _g: CancelResponse.ACCEPT,
            callback_group=group,
        )

    def predict(self, request, response):
        if not request.pushes:
            response.status = PredictRollout.Response.STATUS_INVALID_REQUEST
            response.message = "request has no pushes"
            return response
        states = PredictedStates(num_steps=len(request.pushes), num_particles=1)
        states.pushes = list(request.pushes)
        states.push_start_step = list(range(len(request.pushes)))
        states.positions = [
            float(v) for p in [request.pushes[0], *request.pushes] for v in (p.x, p.y, 0.0)
        ]
        response.status = PredictRollout.Response.STATUS_OK
        response.predicted_states = states
        return response

    def plan(self, goal_handle):
        goal = goal_handle.request
        result = Plan.Result()
        for i in range(goal.max_pushes):
            if goal_handle.is_cancel_requested:
                goal_handle.canceled()
                result.status = Plan.Result.STATUS_CANCELED
                result.message = f"canceled after {i} iterations"
                return result
            fb = Plan.Feedback(push_index=0, mppi_iteration=i, best_cost=1.0 / (i + 1))
            goal_handle.publish_feedback(fb)
            self._stop.wait(0.05)  # one "planning iteration" of work
        goal_handle.succeed()
        result.status = Plan.Result.STATUS_SUCCEEDED
        result.message = f"echoed preset '{goal.target_preset}'"
        result.final_cost = 1.0 / max(goal.max_pushes, 1)
        result.pushes = [
            Push(x=goal.preset_x, y=goal.preset_y, theta=goal.preset_yaw, length=goal.preset_length)
        ]
        return result

    def execute_push(self, goal_handle):
        goal = goal_handle.request
        goal_handle.publish_feedback(ExecutePush.Feedback(progress=1.0, tip=goal.end))
        goal_handle.succeed()
        return ExecutePush.Result(
            status=ExecutePush.Result.STATUS_SUCCEEDED,
            message="echo",
            final_tip=goal.end,
            duration=0.0,
        )


def main():
    rclpy.init()
    node = InterfacePeer()
    executor = MultiThreadedExecutor(num_threads=4)
    executor.add_node(node)
    print("interface_peer ready", flush=True)
    try:
        executor.spin()
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
