"""The common ``main()`` of a node process: init, construct, spin, shut down cleanly."""

from __future__ import annotations

import sys

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor


def run_node(node_class, args=None, num_threads: int = 2) -> int:
    """Run ``node_class()`` on a MultiThreadedExecutor until Ctrl-C / shutdown.

    A node that refuses its parameters (ValueError, e.g. gs_common.ros.params.ParameterError)
    exits with status 2 and a one-line message naming the value instead of a traceback. On
    the way out the node's optional ``close()`` runs before ``destroy_node()``.
    """
    rclpy.init(args=args)
    node = None
    try:
        node = node_class()
        executor = MultiThreadedExecutor(num_threads=num_threads)
        executor.add_node(node)
        executor.spin()
    except ValueError as exc:
        if node is not None:
            raise
        print(f"[FATAL] {node_class.__name__}: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            close = getattr(node, "close", None)
            if callable(close):
                close()
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
