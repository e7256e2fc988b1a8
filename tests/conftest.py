"""Shared test settings: one hypothesis profile, modest and without deadlines.

The machine is small and shared, so property tests run 200 examples each and never
fail on timing (``deadline=None``). Select another profile with
``pytest --hypothesis-profile=<name>``.
"""

from hypothesis import settings

settings.register_profile("marginlab", max_examples=200, deadline=None)
settings.register_profile("thorough", max_examples=2_000, deadline=None)
settings.load_profile("marginlab")
