"""Shared test settings: one hypothesis profile, modest and without timing failures.

The machine is small and shared, so property tests run 200 examples each and never
fail on timing (``deadline=None``, no too-slow health check: building an Account while
generating examples is slow only when the machine is busy). Select another profile with
``pytest --hypothesis-profile=<name>``.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "marginlab", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=2_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("marginlab")
