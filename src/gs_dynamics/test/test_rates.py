import os

from gs_dynamics.rates import TopicWindow, cpu_seconds, format_table, log_counters

LOG = """\
[INFO] [1.0] [tracking]: initialized 691 Gaussians, 34 particles in 41.1 s
[INFO] [2.0] [tracking]: tracked 3 frames; dropped 12 complete frames while busy; rejected 0 images
[INFO] [3.0] [tracking]: tracked 21 frames; dropped 61 complete frames while busy; rejected 1 images
[INFO] [3.1] [segmentation]: segmented 155 frames (2.13 Hz); dropped 24 complete frames while busy
"""


def test_log_counters_keep_the_last_value_per_node():
    c = log_counters(LOG)
    assert c["tracking"] == {"first_frame_s": 41.1, "tracked": 21, "dropped": 61, "rejected": 1}
    assert c["segmentation"] == {"segmented": 155, "dropped": 24}


def test_window_rate_latency_and_table():
    w = TopicWindow()
    for i in range(30):
        w.add(float(i), 0.010 + 0.001 * i)  # latencies 10..39 ms
    assert w.rate(10.0) == 3.0
    assert round(w.latency_ms(0.5)) == 25 and round(w.latency_ms(0.95)) == 38
    assert TopicWindow().latency_ms(0.5) is None
    table = format_table(
        {
            "nodes": {
                "sim": {
                    "cpu_percent": 47.6,
                    "topics": [{"topic": "robot/joint_states", "hz": 14.2, "latency_ms": [1, 8]}],
                    "counters": {},
                },
                "planner": {"cpu_percent": None, "topics": [], "counters": {"tracked": 2.0}},
            }
        }
    )
    lines = table.splitlines()
    assert lines[1].split()[:4] == ["sim", "48", "robot/joint_states", "14.2"]
    assert lines[2].split()[0] == "planner" and lines[2].endswith("tracked 2")


def test_cpu_seconds_of_this_process():
    t = cpu_seconds(os.getpid())
    assert t is not None and t > 0
    assert cpu_seconds(2**22 + 12345) is None  # beyond pid_max: no such process
