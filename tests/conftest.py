import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow],
    max_examples=int(os.environ.get("WSFAST_HYPOTHESIS_EXAMPLES", "200")))
settings.load_profile("default")
