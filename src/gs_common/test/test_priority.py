import os
import subprocess
import sys

import pytest

from gs_common.ros.priority import NICE_PARAM


def test_nice_param_range_and_apply_in_a_child_process():
    assert NICE_PARAM.validate(5) is None
    assert "nice" in NICE_PARAM.validate(25)
    code = (
        "import os; from gs_common.ros.priority import apply_nice; "
        "base = os.getpriority(os.PRIO_PROCESS, 0); "
        "assert apply_nice(base + 3) == base + 3; "
        "assert apply_nice(base) == base + 3; print('ok')"  # never lowered
    )
    if os.getpriority(os.PRIO_PROCESS, 0) > 16:
        pytest.skip("this test process already runs at niceness > 16")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
