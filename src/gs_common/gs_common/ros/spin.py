"""How every node process (and the composed runner) spins and stops.

* :class:`GuardedExecutor`: a MultiThreadedExecutor whose callbacks cannot take the
  process down. An exception escaping one callback is logged with the node's name and a
  traceback; the executor keeps serving that node and every other node in the process.
* :func:`run_node`: the common ``main()`` of a node process. SIGINT and SIGTERM (what
  ``ros2 launch`` and ``gs-stack`` send) request a stop; the stop is bounded so that a node
  always exits within launch's 5 s SIGINT grace period, with status 0 and no error lines.

The stop sequence (:func:`stop_nodes`): stop taking new callbacks, wait up to
``STOP_DRAIN_S`` for the running ones, run each node's optional ``close()`` (bounded too),
destroy the nodes and shut the context down, then leave the process with ``os._exit``.
rclpy's own signal handling is not used: it shuts the context down at the signal, while
callbacks and worker threads still run and then fail to publish ("publisher's context is
invalid"). When a callback or a node's worker thread is still busy after its budget (a
long optimisation), nothing is destroyed under its feet: the process exits at once, which
ends the thread with it. ``os._exit`` also skips interpreter finalisation, where C++
threads of the libraries in use (PyTorch, rclpy, EGL) aborted the process with
"terminate called without an active exception".
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence

import rclpy
from rclpy.executors import (
    ConditionReachedException,
    ExternalShutdownException,
    MultiThreadedExecutor,
    ShutdownException,
    TimeoutException,
)
from rclpy.signals import SignalHandlerOptions

# Budgets of a stop, seconds: running callbacks, then the nodes' close(). Together with
# destroying the nodes they stay well inside launch's 5 s grace period (sigterm_timeout).
STOP_DRAIN_S = 1.0
STOP_CLOSE_S = 1.5
# Safety net: a stop that is still not done after this long ends the process with status 1
# and every thread's stack on stderr (faulthandler), before launch would escalate.
STOP_HARD_LIMIT_S = 4.0


class GuardedExecutor(MultiThreadedExecutor):
    """MultiThreadedExecutor that logs a failing callback instead of raising it from spin.

    rclpy re-raises a callback's exception from ``spin()``/``spin_once()``, which ends the
    process and with it every node it runs. Here the exception is logged (node name, type,
    message, traceback) and counted in ``callback_errors``; errors raised while the
    executor is stopping are logged at debug level only (they are expected then).
    """

    def __init__(self, num_threads: int | None = None, *, context=None, inline: bool = False):
        super().__init__(num_threads, context=context)
        # inline: run each callback on the spinning thread (no thread-pool hand-off). For
        # nodes whose callbacks only take messages in and whose work runs on threads of
        # their own (tracking, segmentation): rclpy's pool hand-off per message cost them
        # ~2x the CPU of the callbacks themselves at 16 image topics x 15 Hz (#17).
        self.inline = inline
        self._running: dict = {}  # task -> its node (for the error report)
        # every submission's concurrent future: a task may be submitted again before its
        # first run started (rclpy yields it until it is marked executing), so the futures
        # of one task are kept apart
        self._work: list = []
        self._running_lock = threading.Lock()
        self.callback_errors = 0
        self.stopping = False

    def _spin_once_impl(self, timeout_sec=None, wait_condition=lambda: False) -> None:
        if self.stopping:
            return
        try:
            handler, _entity, node = self.wait_for_ready_callbacks(
                timeout_sec, None, wait_condition
            )
        except (
            ExternalShutdownException,
            ShutdownException,
            TimeoutException,
            ConditionReachedException,
        ):
            pass
        else:
            if self.inline:
                handler()  # a Task: keeps a callback's exception instead of raising it
                if handler.done() and handler.exception() is not None:
                    self._report(node, handler.exception())
                return
            work = self._executor.submit(handler)
            with self._running_lock:
                self._running[handler] = node
                self._work.append(work)
        self._reap()

    def _reap(self) -> None:
        with self._running_lock:
            finished = [(t, n) for t, n in self._running.items() if t.done()]
            for task, _node in finished:
                del self._running[task]
            self._work = [w for w in self._work if not w.done()]
        for task, node in finished:
            exc = task.exception()
            if exc is not None:
                self._report(node, exc)

    def _report(self, node, exc: BaseException) -> None:
        try:
            name = node.get_fully_qualified_name()
            logger = node.get_logger()
        except Exception:  # the node may already be destroyed
            name, logger = "?", rclpy.logging.get_logger("executor")
        if self.stopping or not self.context.ok():
            logger.debug(f"callback of {name} failed while stopping: {exc!r}")
            return
        self.callback_errors += 1
        trace = "".join(traceback.format_exception(exc)).rstrip()
        logger.error(
            f"a callback of node {name} raised {type(exc).__name__}: {exc} "
            f"(the node keeps running)\n{trace}"
        )

    def busy(self) -> int:
        """Number of callbacks running on a thread right now."""
        with self._running_lock:
            return sum(not w.done() for w in self._work)

    def drain(self, timeout_sec: float) -> bool:
        """Stop taking callbacks; wait up to ``timeout_sec`` for running ones to finish."""
        self.stopping = True
        deadline = time.monotonic() + timeout_sec
        while self.busy() and time.monotonic() < deadline:
            time.sleep(0.02)  # polling a bounded wait
        self._reap()
        return self.busy() == 0


class StopRequest:
    """SIGINT/SIGTERM handlers that request a stop (a second signal changes nothing).

    A signal that arrives while the nodes are still being constructed raises
    KeyboardInterrupt instead (there is nothing to drain yet).
    """

    def __init__(self):
        self.event = threading.Event()
        self.signal_name: str | None = None
        self.starting = True
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum, _frame) -> None:
        if self.event.is_set():
            return
        self.signal_name = signal.Signals(signum).name
        self.event.set()
        if self.starting:
            raise KeyboardInterrupt

    def is_set(self) -> bool:
        return self.event.is_set()


def _bounded(calls: Sequence[Callable[[], object]], timeout_sec: float) -> bool:
    """Run ``calls`` in order on a helper thread; True if all returned within the budget."""
    errors: list[BaseException] = []

    def run() -> None:
        for call in calls:
            try:
                call()
            except Exception as exc:  # a failing close() must not stop the others
                errors.append(exc)

    thread = threading.Thread(target=run, name="stop", daemon=True)
    thread.start()
    thread.join(timeout_sec)
    for exc in errors:
        print(f"[WARN] close() failed: {exc!r}", file=sys.stderr)
    return not thread.is_alive()


def stop_nodes(executor: GuardedExecutor, nodes: Sequence, *, log=print) -> bool:
    """The bounded stop sequence (see the module docstring). True when nothing was left
    running; False when work was abandoned (the caller must then exit the process)."""
    if not executor.drain(STOP_DRAIN_S):
        log(f"stopping with {executor.busy()} callback(s) still running (not waited for)")
        return False
    closes = [getattr(n, "close", None) for n in nodes]
    if not _bounded([c for c in closes if callable(c)], STOP_CLOSE_S):
        log("stopping while a node's close() still runs (not waited for)")
        return False
    executor.shutdown(timeout_sec=0)  # its threads are idle: joins them
    for node in nodes:
        node.destroy_node()
    rclpy.try_shutdown(context=executor.context)
    return True


def exit_process(code: int) -> None:
    """Leave the process now with ``code`` (flushes Python's streams first)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def spin_until_stopped(executor, stop: StopRequest, deadline: float | None = None) -> None:
    """Spin until a stop is requested, the context shuts down or ``deadline`` passes."""
    stop.starting = False
    while (
        not stop.is_set()
        and executor.context.ok()
        and (deadline is None or time.monotonic() < deadline)
    ):
        executor.spin_once(timeout_sec=0.1)


def run_node(node_class, args=None, num_threads: int = 2, inline: bool = False) -> int:
    """Run ``node_class()`` on a :class:`GuardedExecutor` until SIGINT/SIGTERM (``inline``:
    callbacks on the spinning thread, see GuardedExecutor).

    A node that refuses its parameters (ValueError, e.g. gs_common.ros.params.ParameterError)
    exits with status 2 and a one-line message naming the value instead of a traceback. A
    requested stop ends the process with status 0 within the budgets above; this function
    then does not return.
    """
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = StopRequest()
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>`: every thread's stack
    try:
        node = node_class()
    except KeyboardInterrupt:
        exit_process(0)
    except ValueError as exc:
        print(f"[FATAL] {node_class.__name__}: {exc}", file=sys.stderr)
        rclpy.try_shutdown()
        return 2
    executor = GuardedExecutor(num_threads=num_threads, inline=inline)
    executor.add_node(node)
    spin_until_stopped(executor, stop)
    faulthandler.dump_traceback_later(STOP_HARD_LIMIT_S, exit=True)
    logger = node.get_logger()
    if stop.signal_name:
        logger.info(f"{stop.signal_name}: stopping")
    stop_nodes(executor, [node], log=logger.info)
    exit_process(0)
    return 0  # not reached
