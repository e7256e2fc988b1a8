"""Live lesson widgets: controls -> engine -> charts, updated in place.

Every chart is a :class:`SharedFigureWidget` (plotly.js sent once per page) made with
:func:`make_figure_widget`; every lesson widget derives from :class:`LessonWidget`.
"""

from marginlab.widgets._plotly import SharedFigureWidget, make_figure_widget
from marginlab.widgets.base import LessonWidget

__all__ = ["LessonWidget", "SharedFigureWidget", "make_figure_widget"]
