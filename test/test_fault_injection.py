"""Fault injection (#11): a hostile integrator's client against the running planning stack.

The stack is started as users start it (`gs-stack planning oracle_state:=true`: one process
per node) once for the module. This process then publishes malformed images, clouds, rigs
and stamps on the stack's input topics, sends bad `planner/plan` goals and bad
`dynamics/predict` requests, races cancels against goals and preemptions, and sends 20
goals back-to-back. Afterwards every node process must still be running (same PIDs),
every goal must have had a goal response and every accepted goal a defined terminal
status, the dynamics node must still predict, the tracking node's frame synchronizer must
still complete frames, a good goal must succeed, and SIGINT must still stop every node with
exit 0 and no abort message.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import time

import numpy as np
import pytest

pytest.importorskip("rclpy", reason="ROS 2 (rclpy) is not installed")
pytest.importorskip("mujoco", reason="MuJoCo is not installed")

from action_msgs.srv import CancelGoal
from conftest import TestNode
from geometry_msgs.msg import Pose, PoseStamped
from rclpy.action import ActionClient
from sensor_msgs.msg import CameraInfo, Image, PointCloud2, PointField

from gs_common.ros.pointcloud2 import xyz_to_cloud
from gs_common.ros.qos import ACTION_SERVICE_QOS, LATCHED_QOS, SENSOR_QOS
from gs_dynamics_interfaces.action import Plan
from gs_dynamics_interfaces.msg import CameraRig, Push
from gs_dynamics_interfaces.srv import PredictRollout
from ros_harness import ProcessManager, next_domain_id, process_state, ros_env

pytestmark = pytest.mark.timeout(400)

R = Plan.Result
NODES = ["sim", "tracking", "dynamics", "planner"]
DEFINED = {
    R.STATUS_SUCCEEDED,
    R.STATUS_MAX_PUSHES,
    R.STATUS_INVALID_GOAL,
    R.STATUS_CANCELED,
    R.STATUS_PREEMPTED,
    R.STATUS_FAILED,
}
CAMS = ["cam0", "cam1", "cam2", "cam3"]


# --- one stack for the module ---------------------------------------------------------------
@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if shutil.which("gs-stack") is None:
        pytest.skip("gs-stack is not installed (run scripts/bootstrap.sh)")
    domain = next_domain_id()
    env = ros_env(domain)
    saved = {k: os.environ.get(k) for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")}
    for key in saved:
        os.environ[key] = env[key]
    manager = ProcessManager(env, tmp_path_factory.mktemp("fault_injection"))
    proc = manager.start("gs-stack", ["gs-stack", "planning", "oracle_state:=true"])
    node = None
    try:
        for name in NODES:  # every node constructed (one still starting ignores faults)
            proc.wait_for_output(re.escape(f"{name} ready"), timeout=180)
        pids = {
            name: int(pid)
            for name, pid in re.findall(r"started node '(\w+)' \(pid (\d+)\)", proc.output())
        }
        assert set(NODES) <= set(pids), proc.output()
        node = TestNode("fault_injector", domain)
        yield Stack(proc, pids, node)
    finally:
        if node is not None:
            node.close()
        manager.stop_all()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Stack:
    def __init__(self, proc, pids: dict[str, int], t: TestNode):
        self.proc, self.pids, self.t = proc, pids, t
        self.client = ActionClient(
            t.node, Plan, "planner/plan",
            goal_service_qos_profile=ACTION_SERVICE_QOS,
            result_service_qos_profile=ACTION_SERVICE_QOS,
        )  # fmt: skip
        assert t.spin_until(self.client.server_is_ready, 60), "planner/plan not available"
        self.predict = t.node.create_client(PredictRollout, "dynamics/predict")
        assert t.spin_until(self.predict.service_is_ready, 60), "dynamics/predict not available"
        self.particles: list[float] = []
        t.node.create_subscription(
            PointCloud2, "tracking/particles", lambda _m: self.particles.append(time.monotonic()),
            SENSOR_QOS,
        )  # fmt: skip
        self._pubs: dict[tuple[str, type], object] = {}

    def publish(self, topic: str, msg, qos=SENSOR_QOS) -> None:
        """Publish once the topic has a reader, paced so a depth-2 reader queue keeps up."""
        key = (topic, type(msg))
        if key not in self._pubs:
            pub = self.t.node.create_publisher(type(msg), topic, qos)
            assert self.t.spin_until(lambda: pub.get_subscription_count() > 0, 30), (
                f"nobody subscribes to {topic}"
            )
            self._pubs[key] = pub
        self._pubs[key].publish(msg)
        self.t.spin_until(lambda: False, 0.02)

    def log_count(self, text: str) -> int:
        return self.proc.output().count(text)

    def assert_alive(self) -> None:
        dead = [n for n, pid in self.pids.items() if process_state(pid) in ("X", "Z")]
        assert not dead, f"node processes died: {dead}\n{self.proc.output()[-6000:]}"
        assert self.proc.alive(), self.proc.output()[-6000:]
        for bad in ("Traceback", "terminate called", "exited on its own"):
            assert bad not in self.proc.output(), self.proc.output()[-6000:]

    def send(self, goal: Plan.Goal, timeout: float = 60.0):
        return self.t.wait_future(self.client.send_goal_async(goal), timeout)

    def result(self, handle, timeout: float = 300.0):
        return self.t.wait_future(handle.get_result_async(), timeout).result

    def call(self, req, timeout: float = 60.0):
        return self.t.wait_future(self.predict.call_async(req), timeout)


# --- message builders -----------------------------------------------------------------------
def _image(w, h, encoding, step=None, data=None, stamp=None) -> Image:
    msg = Image(width=w, height=h, encoding=encoding)
    bpp = {"rgb8": 3, "bgr8": 3, "mono8": 1, "16UC1": 2, "32FC1": 4, "rgba8": 4}.get(encoding, 3)
    msg.step = w * bpp if step is None else step
    msg.data = bytes(msg.step * h) if data is None else data
    if stamp is None:
        msg.header.stamp = _now_stamp()
    else:
        msg.header.stamp.sec, msg.header.stamp.nanosec = stamp
    msg.header.frame_id = "cam0_color_optical_frame"
    return msg


def _now_stamp():
    from builtin_interfaces.msg import Time

    ns = time.time_ns()
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def _rope(n: int = 30) -> np.ndarray:
    return np.stack([np.linspace(-0.2, 0.2, n), np.zeros(n), np.full(n, 0.008)], 1).astype(
        np.float32
    )


def _bad_clouds() -> list[tuple[str, PointCloud2]]:
    good = xyz_to_cloud(_rope())
    nan = xyz_to_cloud(_rope())
    floats = np.frombuffer(bytes(nan.data), np.float32).copy()
    floats[::5] = np.nan
    nan.data = floats.tobytes()
    inf = xyz_to_cloud(_rope())
    floats = np.frombuffer(bytes(inf.data), np.float32).copy()
    floats[2] = np.inf
    inf.data = floats.tobytes()
    no_z = xyz_to_cloud(_rope())
    no_z.fields = [f for f in no_z.fields if f.name != "z"]
    no_fields = xyz_to_cloud(_rope())
    no_fields.fields = []
    small_step = xyz_to_cloud(_rope())
    small_step.point_step = 4
    huge_step = xyz_to_cloud(_rope())
    huge_step.point_step = 1 << 20
    truncated = xyz_to_cloud(_rope())
    truncated.data = bytes(good.data)[:-7]
    wrong_width = xyz_to_cloud(_rope())
    wrong_width.width = 100_000
    wrong_type = xyz_to_cloud(_rope())
    wrong_type.fields = [
        PointField(name=f.name, offset=f.offset, datatype=PointField.UINT8, count=1)
        for f in wrong_type.fields
    ]
    offset_out = xyz_to_cloud(_rope())
    offset_out.fields[2].offset = 1000
    big_endian = xyz_to_cloud(_rope())
    big_endian.is_bigendian = True
    camera_frame = xyz_to_cloud(_rope(), "camera")
    empty = xyz_to_cloud(np.zeros((0, 3), np.float32))
    far = xyz_to_cloud(_rope() + np.float32(1e30))
    return [
        ("nan", nan), ("inf", inf), ("missing z", no_z), ("no fields", no_fields),
        ("point_step 4", small_step), ("point_step 1 MiB", huge_step),
        ("truncated", truncated), ("width 100000", wrong_width), ("uint8 fields", wrong_type),
        ("offset past the point", offset_out), ("big endian", big_endian),
        ("camera frame", camera_frame), ("empty", empty), ("1e30 m", far),
    ]  # fmt: skip


def _bad_rigs() -> list[tuple[str, CameraRig]]:
    def rig(names=("cam0",), poses=None, infos=None, scales=None) -> CameraRig:
        msg = CameraRig(names=list(names))
        msg.header.frame_id = "world"
        msg.world_from_camera = (
            [Pose() for _ in names] if poses is None else poses
        )  # Pose() has w = 1
        msg.color_info = (
            [CameraInfo(width=320, height=240, k=[300.0, 0, 160, 0, 300, 120, 0, 0, 1])]
            * len(names)
            if infos is None
            else infos
        )
        msg.depth_scale = [0.001] * len(names) if scales is None else scales
        return msg

    nan_pose = Pose()
    nan_pose.position.x = float("nan")
    zero_q = Pose()
    zero_q.orientation.w = 0.0
    huge = Pose()
    huge.position.z = 1e308
    return [
        ("camera name with a space", rig(names=["cam0 bad-name"])),
        ("camera name with a slash", rig(names=["../cam0"])),
        ("empty camera name", rig(names=[""])),
        ("duplicate names", rig(names=["cam0", "cam0"])),
        ("NaN pose", rig(poses=[nan_pose])),
        ("zero quaternion", rig(poses=[zero_q])),
        ("1e308 position", rig(poses=[huge])),
        ("two poses for one camera", rig(poses=[Pose(), Pose()])),
        ("no intrinsics", rig(infos=[])),
        ("zero-size intrinsics", rig(infos=[CameraInfo()])),
        ("depth scales too long", rig(scales=[0.001, 0.001, 0.001])),
        ("NaN depth scale", rig(scales=[float("nan")])),
        ("negative depth scale", rig(scales=[-1.0])),
        ("no cameras", rig(names=[])),
    ]


# --- the cases ------------------------------------------------------------------------------
def test_malformed_camera_data_clouds_and_rigs(stack):
    t = stack.t
    now = time.time_ns() // 1_000_000_000
    images = [
        ("wrong size", _image(7, 5, "rgb8")),
        ("zero size", _image(0, 0, "rgb8")),
        ("zero width, data", _image(0, 240, "rgb8", step=0, data=bytes(100))),
        ("wrong encoding", _image(320, 240, "yuv422")),
        ("rgba8", _image(320, 240, "rgba8")),
        ("truncated", _image(320, 240, "rgb8", data=bytes(320 * 3 * 240 - 11))),
        ("step too small", _image(320, 240, "rgb8", step=10)),
        ("step huge", _image(320, 240, "rgb8", step=1 << 30, data=bytes(320 * 3 * 240))),
        ("far future", _image(320, 240, "rgb8", stamp=(now + 10**6, 0))),
        ("far past", _image(320, 240, "rgb8", stamp=(1, 0))),
        ("max stamp", _image(320, 240, "rgb8", stamp=(2**31 - 1, 999_999_999))),
    ]
    depths = [
        ("depth as rgb8", _image(320, 240, "rgb8")),
        ("depth wrong size", _image(3, 3, "16UC1")),
        ("depth truncated", _image(320, 240, "32FC1", data=bytes(17))),
        ("depth NaN", _image(320, 240, "32FC1", data=np.full(320 * 240, np.nan, "<f4").tobytes())),
        ("depth far future", _image(320, 240, "16UC1", stamp=(now + 10**6, 0))),
    ]  # fmt: skip
    masks = [
        ("mask as rgb8", _image(320, 240, "rgb8")),
        ("mask wrong size", _image(10, 10, "mono8")),
        ("mask far future", _image(320, 240, "mono8", stamp=(now + 10**6, 0))),
    ]
    # every image topic of every camera gets every bad frame
    for cam in CAMS:
        for _name, msg in images:
            stack.publish(f"cameras/{cam}/color/image_raw", msg)
        for _name, msg in depths:
            stack.publish(f"cameras/{cam}/depth/image_raw", msg)
        for _name, msg in masks:
            stack.publish(f"cameras/{cam}/object_mask", msg)
            stack.publish(f"cameras/{cam}/robot_mask", msg)

    # clouds on every cloud input of the stack (tracking output topics included: the
    # dynamics node and the oracle planner read them)
    topics = [
        "tracking/particles", "tracking/gaussians", "sim/ground_truth/object_points",
    ]  # fmt: skip
    for topic in topics:
        for _name, cloud in _bad_clouds():
            stack.publish(topic, cloud)

    # end-effector poses with NaN / absurd values
    for value in (float("nan"), float("inf"), 1e308):
        ee = PoseStamped()
        ee.header.frame_id = "world"
        ee.pose.position.x = value
        ee.pose.orientation.w = 0.0
        stack.publish("robot/ee_pose", ee)
    stack.assert_alive()

    # malformed rigs, each from its own latched publisher once the dynamics, tracking and
    # robot_model nodes read it: the dynamics node names each one it ignores
    sim_rig = []
    t.node.create_subscription(CameraRig, "cameras/rig", sim_rig.append, LATCHED_QOS)
    assert t.spin_until(lambda: bool(sim_rig), 30), "no cameras/rig from the simulator"
    readers = None
    accepted = []
    for name, rig in _bad_rigs():
        before = stack.log_count("[dynamics]: ignoring cameras/rig")
        pub = t.node.create_publisher(CameraRig, "cameras/rig", LATCHED_QOS)
        assert t.spin_until(lambda p=pub: p.get_subscription_count() >= 3, 30)
        readers = pub.get_subscription_count()
        pub.publish(rig)
        if not t.spin_until(
            lambda b=before: stack.log_count("[dynamics]: ignoring cameras/rig") > b, 15
        ):
            accepted.append(name)
        t.node.destroy_publisher(pub)
    # the sim's rig again, for the nodes that took a rig above
    pub = t.node.create_publisher(CameraRig, "cameras/rig", LATCHED_QOS)
    assert t.spin_until(lambda: pub.get_subscription_count() >= 3, 30)
    pub.publish(sim_rig[0])
    assert accepted == [], f"the dynamics node accepted bad rigs: {accepted} ({readers} readers)"
    stack.assert_alive()

    # the dynamics node still predicts, and the tracking node's frame synchronizer still
    # completes frames (tracked or dropped while busy: the count goes on) after them
    res = stack.call(
        PredictRollout.Request(
            state=xyz_to_cloud(_rope()),
            pushes=[Push(x=0.0, y=-0.05, theta=math.pi / 2, length=0.1)],
        )
    )
    assert res.status == PredictRollout.Response.STATUS_OK, res.message
    before = _tracking_frames(stack.proc.output())
    assert t.spin_until(lambda: _tracking_frames(stack.proc.output()) > before, 60), (
        "the tracking node completed no frame after the malformed ones\n"
        + stack.proc.output()[-6000:]
    )
    stack.assert_alive()


def _tracking_frames(log: str) -> int:
    """Frames the tracking node completed (tracked + dropped while busy), last report."""
    found = re.findall(r"\[tracking\]: tracked (\d+) frames; dropped (\d+)", log)
    return int(found[-1][0]) + int(found[-1][1]) if found else -1


def test_bad_predict_requests(stack):
    S = PredictRollout.Response
    big = PredictRollout.Request(
        state=xyz_to_cloud(_rope()),
        pushes=[Push(x=0.0, y=0.0, theta=0.0, length=0.1)] * 10_000,
    )
    cases = [
        (PredictRollout.Request(state=cloud, pushes=[Push(x=0.0, y=-0.05, length=0.1)]), name)
        for name, cloud in _bad_clouds()
    ]
    cases += [
        (PredictRollout.Request(state=xyz_to_cloud(_rope()), pushes=[p]), name)
        for name, p in (
            ("x nan", Push(x=float("nan"), y=0.0, theta=0.0, length=0.1)),
            ("y inf", Push(x=0.0, y=float("inf"), theta=0.0, length=0.1)),
            ("theta 1e308", Push(x=0.0, y=0.0, theta=1e308, length=0.1)),
            ("length 1e308", Push(x=0.0, y=0.0, theta=0.0, length=1e308)),
            ("length 0", Push(x=0.0, y=0.0, theta=0.0, length=0.0)),
            ("x -1e308", Push(x=-1e308, y=0.0, theta=0.0, length=0.1)),
        )
    ]
    cases.append((big, "10000 pushes"))
    cases.append((PredictRollout.Request(use_latest_observed=True, pushes=[]), "no pushes"))
    for req, name in cases:
        res = stack.call(req, timeout=120)
        assert res.status in (S.STATUS_INVALID_REQUEST, S.STATUS_OK, S.STATUS_NO_STATE), (
            f"{name}: status {res.status}: {res.message}"
        )
        if name not in ("big endian", "uint8 fields", "10000 pushes", "theta 1e308"):
            # everything else above is invalid and must be named as such (a big-endian or
            # uint8 cloud is an unusual but valid PointCloud2 layout; any finite angle is
            # an angle)
            assert res.status == S.STATUS_INVALID_REQUEST, f"{name}: {res.message}"
            assert res.message, name
        assert "Traceback" not in res.message, res.message
    stack.assert_alive()


def test_bad_goals_are_answered_and_never_crash(stack):
    nan_target = _bad_clouds()[0][1]
    goals = [
        Plan.Goal(target_preset="circle"),
        Plan.Goal(target_preset="STRAIGHT_LINE"),
        Plan.Goal(target_preset="straight_line", preset_x=float("nan")),
        Plan.Goal(target_preset="straight_line", preset_length=1e308),
        Plan.Goal(target_preset="translate", preset_x=1e308),
        Plan.Goal(target_preset="rotate", preset_yaw=float("inf")),
        Plan.Goal(target_preset="straight_line", tolerance=float("nan")),
        Plan.Goal(target_preset="translate", max_pushes=2**32 - 1, tolerance=1e308),
        Plan.Goal(target_cloud=xyz_to_cloud(np.zeros((0, 3), np.float32))),
        Plan.Goal(target_cloud=nan_target),
        Plan.Goal(),  # neither preset nor cloud
    ]
    goals += [Plan.Goal(target_cloud=c) for _n, c in _bad_clouds()[1:]]
    # a valid but unusual target: 200 000 points (2.4 MB) in the workspace
    rng = np.random.default_rng(0)
    many = rng.uniform([-0.2, -0.2, 0.0], [0.2, 0.2, 0.01], (200_000, 3)).astype(np.float32)
    goals.append(Plan.Goal(target_cloud=xyz_to_cloud(many)))
    for goal in goals:
        goal.execute = False
        handle = stack.send(goal)
        if not handle.accepted:
            continue  # a rejection in the goal response is a defined answer too
        res = stack.result(handle)
        assert res.status in DEFINED, (goal, res.status, res.message)
        assert res.pushes_executed == 0
        if goal.target_preset in ("circle", "STRAIGHT_LINE", "") and not goal.target_cloud.data:
            assert res.status == R.STATUS_INVALID_GOAL, res.message
    stack.assert_alive()


def test_cancel_and_preempt_races(stack):
    t = stack.t
    outcomes = []

    def check(handle, allowed=DEFINED):
        if not handle.accepted:
            return
        res = stack.result(handle)
        outcomes.append(res.status)
        assert res.status in allowed, (res.status, res.message)

    mpc = dict(target_preset="rotate", preset_yaw=0.3, execute=True, max_pushes=3, tolerance=1e-4)
    # cancel right after the goal response, before the goal has started
    h = stack.send(Plan.Goal(**mpc))
    t.wait_future(h.cancel_goal_async(), 30)
    check(h, {R.STATUS_CANCELED, R.STATUS_PREEMPTED})
    # cancel twice, and cancel a goal that already finished
    h = stack.send(Plan.Goal(**mpc))
    c1, c2 = h.cancel_goal_async(), h.cancel_goal_async()
    t.wait_future(c1, 30)
    t.wait_future(c2, 30)
    check(h, {R.STATUS_CANCELED})
    t.wait_future(h.cancel_goal_async(), 30)  # finished: nothing to cancel, no crash
    # cancel and a new goal at the same moment; an invalid goal between them
    h1 = stack.send(Plan.Goal(**mpc))
    cancel = h1.cancel_goal_async()
    h_bad = stack.send(Plan.Goal(target_preset="zigzag", execute=True))
    h2 = stack.send(Plan.Goal(target_preset="translate", preset_x=0.02, execute=False))
    t.wait_future(cancel, 30)
    check(h1, {R.STATUS_CANCELED, R.STATUS_PREEMPTED})
    check(h_bad, {R.STATUS_INVALID_GOAL})
    check(h2, {R.STATUS_SUCCEEDED})
    # cancel every goal of the server at once (ROS cancel with a zero goal id)
    h = stack.send(Plan.Goal(**mpc))
    cancel_all = t.node.create_client(CancelGoal, "planner/plan/_action/cancel_goal")
    assert t.spin_until(cancel_all.service_is_ready, 30)
    t.wait_future(cancel_all.call_async(CancelGoal.Request()), 30)  # zero id: all goals
    check(h, {R.STATUS_CANCELED})
    stack.assert_alive()


def test_back_to_back_goals_mixed_with_invalid_ones(stack):
    t = stack.t
    goals = []
    for i in range(20):
        if i % 5 == 3:
            goals.append(Plan.Goal(target_preset="translate", preset_x=float("nan")))
        else:
            goals.append(Plan.Goal(target_preset="translate", preset_x=0.01 * (i % 3)))
    futures = [stack.client.send_goal_async(g) for g in goals]
    assert t.spin_until(lambda: all(f.done() for f in futures), 90), (
        f"{sum(not f.done() for f in futures)} of 20 goals got no goal response"
    )
    handles = [f.result() for f in futures]
    results = [stack.result(h, 180) if h.accepted else None for h in handles]
    for goal, res in zip(goals, results, strict=True):
        if res is None:
            continue
        assert res.status in DEFINED, res.message
        if math.isnan(goal.preset_x):
            assert res.status == R.STATUS_INVALID_GOAL, res.message
        else:
            assert res.status in (R.STATUS_SUCCEEDED, R.STATUS_PREEMPTED), res.message
    assert results[-1] is not None and results[-1].status == R.STATUS_SUCCEEDED
    stack.assert_alive()


def test_zz_stack_still_serves_a_good_goal_and_stops_cleanly(stack):
    """Last in the module: after everything above, all node processes are the ones that
    were started, a good goal succeeds, and SIGINT stops every node with exit 0."""
    stack.assert_alive()
    handle = stack.send(Plan.Goal(target_preset="straight_line", execute=False))
    assert handle.accepted
    res = stack.result(handle)
    assert res.status == R.STATUS_SUCCEEDED, res.message
    assert len(res.pushes) == 1 and np.isfinite(res.final_cost)
    stack.assert_alive()

    # and the stack still stops cleanly: SIGINT -> every node exits 0, no abort message
    stack.proc.proc.send_signal(signal.SIGINT)
    code = stack.proc.proc.wait(timeout=60)
    log = stack.proc.output()
    assert code == 0, log[-6000:]
    for name in stack.pids:
        assert re.search(rf"node '{name}' \(pid \d+\) stopped with code 0", log), log[-6000:]
    for bad in ("terminate called", "context is invalid", "still running after"):
        assert bad not in log, log[-6000:]
