"""marginlab: Jupyter widgets and lessons on Cross vs Isolated margin for perpetual futures.

The package root exports the engine; widgets are reached as ``marginlab.widgets`` and
chart builders as ``marginlab.charts``. Educational, not financial advice.
"""

from importlib.metadata import PackageNotFoundError, version

from marginlab.engine import *  # noqa: F403
from marginlab.engine import __all__ as _engine_all

try:
    __version__ = version("marginlab")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"

__all__ = [*_engine_all, "__version__"]
