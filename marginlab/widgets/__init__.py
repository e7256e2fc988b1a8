"""Live lesson widgets: controls -> engine -> charts, updated in place.

``catalog()`` returns every lesson widget by name. Every chart is a
:class:`SharedFigureWidget` (plotly.js sent once per page) made with
:func:`make_figure_widget`; every lesson widget derives from :class:`LessonWidget`.
Lessons display charts and widgets with :func:`show`, computed sentences with
:func:`prose`, and their self-check with :func:`self_check`.
"""

from marginlab.widgets._plotly import SharedFigureWidget, make_figure_widget
from marginlab.widgets.base import LessonWidget
from marginlab.widgets.catalog import catalog
from marginlab.widgets.selfcheck import self_check
from marginlab.widgets.show import prose, show

__all__ = [
    "LessonWidget",
    "SharedFigureWidget",
    "catalog",
    "make_figure_widget",
    "prose",
    "self_check",
    "show",
]
