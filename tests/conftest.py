import os
import sys
import sysconfig

from hypothesis import HealthCheck, settings

import wsfast

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow],
    max_examples=int(os.environ.get("WSFAST_HYPOTHESIS_EXAMPLES", "200")))
settings.load_profile("default")


def pytest_report_header(config):
    """Which implementation and which kind of interpreter this run tests."""
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    return (f"wsfast {wsfast.__version__}: {wsfast.IMPLEMENTATION} ({wsfast.KERNEL}); "
            f"free-threaded build: {free_threaded}, GIL enabled: {gil}")
