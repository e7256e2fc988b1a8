"""Live lesson widgets: controls -> engine -> charts, updated in place.

``catalog()`` returns every lesson widget by name. Every chart is a
:class:`SharedFigureWidget` (plotly.js sent once per page) made with
:func:`make_figure_widget`; every lesson widget derives from :class:`LessonWidget`.
"""

from marginlab.widgets._plotly import SharedFigureWidget, make_figure_widget
from marginlab.widgets.base import LessonWidget
from marginlab.widgets.catalog import catalog
from marginlab.widgets.show import show

__all__ = ["LessonWidget", "SharedFigureWidget", "catalog", "make_figure_widget", "show"]
