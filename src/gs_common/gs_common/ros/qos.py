"""QoS profiles used across the stack.

- SENSOR_QOS: camera streams and high-rate state: best effort, keep last 2, volatile —
  a slow subscriber drops frames instead of queueing them.
- STATE_QOS: lower-rate state topics that consumers should not miss (particles,
  predicted states): reliable, keep last 5.
- ACTION_SERVICE_QOS: request queues of action servers: reliable, keep last 100.
- LATCHED_QOS: configuration published once (``cameras/rig``): reliable,
  transient-local, keep last 1 — late joiners still receive it.
"""

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

SENSOR_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=2,
    reliability=ReliabilityPolicy.BEST_EFFORT,
    durability=DurabilityPolicy.VOLATILE,
)
STATE_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=5,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
LATCHED_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
# Request queues of action servers (goal / cancel / result services): reliable, keep last
# 100. rclpy's default (services default, depth 10) drops requests beyond the 10th of a
# burst: 9-10 of 20 goals sent back-to-back never got a goal response (#11).
ACTION_SERVICE_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=100,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
