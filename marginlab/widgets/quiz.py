"""Self-check questions with feedback that teaches ("predict, then check").

Correct answers are numbers the engine computes and the question bank passes in
(:mod:`marginlab.widgets.selfcheck`), never typed-in constants, and never in a lesson's
source: the learner sees only the questions. A first miss gets a hint (or, for a known
mistake such as typing the bankruptcy price for the liquidation price, feedback aimed at
that mistake), never the answer; a second miss, or the "Show answer" button, gives the
answer and why. Instructors can reveal every answer at once (``Quiz(...,
instructor=True)`` or the environment variable ``MARGINLAB_INSTRUCTOR=1``).

Feedback is announced to screen readers (a ``role="status"`` live region that stays in
the page while its text changes) in colours that meet WCAG AA contrast (4.5:1) on their
own background, in a light or dark theme. Every input has an accessible name.

A page without a kernel (the static site) shows each question with its answer folded
under a "Show the answer" disclosure, from the quiz's HTML representation.
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass
from typing import Any

import anywidget
import ipywidgets as w
import traitlets

from marginlab.engine.errors import MarginError
from marginlab.widgets.show import in_voila

# Text colour on background colour per kind of feedback; tests check each pair's contrast.
TONES: dict[str, tuple[str, str]] = {
    "correct": ("#0b5d2a", "#e8f5ec"),  # dark green on pale green
    "wrong": ("#9b1c1c", "#fdecea"),  # dark red on pale red
    "hint": ("#7a4100", "#fff4e0"),  # dark amber on pale amber
    "answer": ("#1f2937", "#eef2f7"),  # near-black on pale grey-blue
    "info": ("#1f2937", "#ffffff"),
}
ANSWER_LABEL = "Your answer"  # the visible label, and accessible name, of every input
MARKS = {"correct": "✔", "wrong": "✘", "hint": "✘", "answer": "→", "info": ""}

_FEEDBACK_ESM = """
export default {
  render({ model, el }) {
    // One live region, kept in the page: screen readers announce each new text.
    const live = document.createElement("div");
    live.setAttribute("role", "status");
    live.setAttribute("aria-live", "polite");
    live.className = "marginlab-feedback-text";
    live.style.padding = "0.3em 0.6em";
    live.style.borderRadius = "4px";
    el.appendChild(live);
    const draw = () => {
      const text = model.get("text");
      live.textContent = text;
      live.style.display = text ? "block" : "none";
      live.style.color = model.get("color");
      live.style.background = model.get("background");
    };
    model.on("change:text", draw);
    model.on("change:color", draw);
    model.on("change:background", draw);
    draw();
  }
};
"""


class Feedback(anywidget.AnyWidget):
    """The feedback line of a question: an ``aria-live`` region with a tone's colours."""

    _esm = _FEEDBACK_ESM
    text = traitlets.Unicode("").tag(sync=True)
    color = traitlets.Unicode(TONES["info"][0]).tag(sync=True)
    background = traitlets.Unicode(TONES["info"][1]).tag(sync=True)
    tone = traitlets.Unicode("info")

    def say(self, tone: str, text: str) -> None:
        """Show ``text`` in the colours of ``tone`` (a key of :data:`TONES`)."""
        if tone not in TONES:
            raise ValueError(f"tone must be one of {', '.join(TONES)}, got {tone!r}")
        color, background = TONES[tone]
        mark = MARKS[tone]
        with self.hold_sync():
            self.tone, self.color, self.background = tone, color, background
            self.text = f"{mark} {text}" if mark and text else text


@dataclass(frozen=True)
class Mistake:
    """A wrong answer worth naming: an attempt within ``tolerance`` of ``value`` gets
    ``feedback`` instead of the generic hint (same unit as the question)."""

    value: float
    feedback: str
    tolerance: float | None = None  # None: the question's tolerance

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"value must be a finite number, got {self.value!r}")


@dataclass(frozen=True)
class Choice:
    """A multiple-choice question; ``correct`` is the index into ``options``.

    ``mistakes`` maps an option index to feedback aimed at that wrong choice.
    """

    prompt: str
    options: tuple[str, ...]
    correct: int
    explanation: str
    hint: str = ""
    mistakes: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple(self.options))
        object.__setattr__(self, "mistakes", tuple(tuple(m) for m in self.mistakes))
        if len(self.options) < 2:
            raise MarginError(f"options must hold at least 2 answers, got {len(self.options)}")
        if not 0 <= self.correct < len(self.options):
            raise MarginError(
                f"correct must be an index from 0 to {len(self.options) - 1}, got {self.correct}"
            )
        for index, _ in self.mistakes:
            if index == self.correct or not 0 <= index < len(self.options):
                raise ValueError(
                    f"mistakes must name wrong options (0 to {len(self.options) - 1}, "
                    f"not {self.correct}), got {index}"
                )

    @property
    def answer_text(self) -> str:
        return self.options[self.correct]

    def _index(self, value: object) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value if 0 <= value < len(self.options) else None
        return self.options.index(value) if value in self.options else None

    def is_correct(self, value: object) -> bool:
        """True when ``value`` (an option index or its text) is the right option."""
        return self._index(value) == self.correct

    def mistake(self, value: object) -> str | None:
        """Feedback aimed at this wrong choice, if the question has one."""
        index = self._index(value)
        return next((text for i, text in self.mistakes if i == index), None)


@dataclass(frozen=True)
class Numeric:
    """A numeric question; right within ``tolerance`` (same unit as ``answer``)."""

    prompt: str
    answer: float
    tolerance: float
    explanation: str
    unit: str = ""
    hint: str = ""
    mistakes: tuple[Mistake, ...] = ()
    decimals: int = 2  # how the answer is written when shown

    def __post_init__(self) -> None:
        object.__setattr__(self, "mistakes", tuple(self.mistakes))
        if not math.isfinite(self.answer):
            raise MarginError(f"answer must be a finite number, got {self.answer!r}")
        if not self.tolerance >= 0:
            raise MarginError(f"tolerance must be 0 or more, got {self.tolerance!r}")

    @property
    def answer_text(self) -> str:
        return f"{self.answer:,.{self.decimals}f} {self.unit}".strip()

    def parse(self, value: object) -> float | None:
        """The number in an attempt ("54,216.87", "54216 USDT", 54216.9), or None."""
        text = str(value).replace(",", "").strip()
        if self.unit:
            text = text.removesuffix(self.unit).strip()
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None

    def is_correct(self, value: object) -> bool:
        """True when ``value`` is a number within ``tolerance`` of the answer."""
        number = self.parse(value)
        return number is not None and abs(number - self.answer) <= self.tolerance

    def mistake(self, value: object) -> str | None:
        """Feedback aimed at a known wrong answer near ``value``, if any."""
        number = self.parse(value)
        if number is None:
            return "That is not a number: type digits only, e.g. 12345.67."
        for known in self.mistakes:
            tolerance = self.tolerance if known.tolerance is None else known.tolerance
            if abs(number - known.value) <= tolerance:
                return known.feedback
        return None


Question = Choice | Numeric


def feedback(question: Question, value: object, attempts: int = 1) -> tuple[str, str]:
    """The tone and text for the ``attempts``-th try of ``value`` (1 = the first).

    Right: "correct" and the explanation. A first miss: "hint", the feedback for that
    known mistake or the hint, never the answer. A later miss: "wrong", the answer and
    why.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be 1 or more, got {attempts}")
    if question.is_correct(value):
        return "correct", f"Correct. {question.explanation}"
    if attempts == 1:
        aimed = question.mistake(value)
        nudge = aimed or (f"Hint: {question.hint}" if question.hint else "Look again.")
        return "hint", f"Not quite. {nudge} Try again."
    return "wrong", f"Not quite. The answer: {question.answer_text}. {question.explanation}"


def _answer_html(question: Question) -> str:
    return f"<b>{html.escape(question.answer_text)}</b>. {html.escape(question.explanation)}"


class QuestionBox(w.VBox):
    """One question: prompt, an input, Check and Show-answer buttons, the feedback line."""

    def __init__(self, question: Question, number: int) -> None:
        self.question = question
        self.number = number
        self.attempts = 0  # wrong or right tries that were checked
        self.correct: bool | None = None
        self.revealed = False
        prompt = w.HTML(f"<b>Q{number}.</b> {html.escape(question.prompt)}")
        # The description is a <label> linked to the input: the input's accessible name.
        # Each option's text labels its own radio button.
        label = {"description": ANSWER_LABEL, "style": {"description_width": "initial"}}
        if isinstance(question, Choice):
            self.input = w.RadioButtons(
                options=list(question.options), value=None, layout={"width": "max-content"}, **label
            )
        else:
            placeholder = f"a number in {question.unit}" if question.unit else "a number"
            self.input = w.Text(placeholder=placeholder, continuous_update=False, **label)
        self.button = w.Button(description="Check", button_style="primary", tooltip="Check")
        self.button.on_click(lambda _: self.check())
        self.show_button = w.Button(description="Show answer", tooltip="Show answer")
        self.show_button.on_click(lambda _: self.reveal())
        self.output = Feedback()
        self.output.add_class("marginlab-feedback")
        super().__init__([prompt, w.HBox([self.input, self.button, self.show_button]), self.output])
        self.add_class("marginlab-question")

    def answer(self, value: object) -> str:
        """Set the input as a learner would and check it; returns the feedback text."""
        if isinstance(self.question, Choice) and isinstance(value, int):
            value = self.question.options[value]
        self.input.value = value if isinstance(self.question, Choice) else str(value)
        return self.check()

    def check(self) -> str:
        """Check the current input and show the feedback; returns its text."""
        if self.input.value in (None, ""):
            self.output.say("info", "Choose or type an answer first.")
            return self.output.text
        self.attempts += 1
        tone, text = feedback(self.question, self.input.value, self.attempts)
        self.correct = tone == "correct"
        self.output.say(tone, text)
        return text

    def reveal(self) -> str:
        """Show the answer and why (the "Show answer" button, or instructor mode)."""
        self.revealed = True
        text = f"The answer: {self.question.answer_text}. {self.question.explanation}"
        self.output.say("answer", text)
        return text

    def static_html(self) -> str:
        """The question for a page without a kernel: prompt, options, folded answer."""
        options = ""
        if isinstance(self.question, Choice):
            items = "".join(f"<li>{html.escape(o)}</li>" for o in self.question.options)
            options = f"<ul>{items}</ul>"
        return (
            f'<div class="marginlab-question-static"><p><b>Q{self.number}.</b> '
            f"{html.escape(self.question.prompt)}</p>{options}"
            f"<details><summary>Show the answer</summary><p>{_answer_html(self.question)}"
            "</p></details></div>"
        )


class Quiz(w.VBox):
    """A list of self-check questions; ``instructor=True`` adds a Reveal-answers button."""

    def __init__(self, questions: list[Question], *, instructor: bool | None = None) -> None:
        if not questions:
            raise MarginError("questions must hold at least one question")
        self.boxes = [QuestionBox(q, i + 1) for i, q in enumerate(questions)]
        if instructor is None:
            instructor = os.environ.get("MARGINLAB_INSTRUCTOR", "") == "1"
        children: list[w.Widget] = [w.HTML("<h4>Check yourself</h4>"), *self.boxes]
        if instructor:
            reveal = w.Button(description="Reveal answers", button_style="warning")
            reveal.on_click(lambda _: self.reveal())
            children.append(reveal)
        super().__init__(children)
        self.add_class("marginlab-quiz")

    @property
    def questions(self) -> list[Question]:
        return [box.question for box in self.boxes]

    def answer(self, index: int, value: object) -> str:
        """Answer question ``index`` (0-based) and return its feedback text."""
        return self.boxes[index].answer(value)

    def reveal(self) -> None:
        for box in self.boxes:
            box.reveal()

    @property
    def score(self) -> tuple[int, int]:
        """(questions answered correctly, number of questions)."""
        return sum(box.correct is True for box in self.boxes), len(self.boxes)

    def static_html(self) -> str:
        """Every question with its answer folded, for a page without a kernel."""
        body = "".join(box.static_html() for box in self.boxes)
        return f'<div class="marginlab-quiz-static"><h4>Check yourself</h4>{body}</div>'

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """The live quiz where a kernel runs; a page without one shows :meth:`static_html`.

        In Voila (a kernel always runs, the page is never saved) only the live quiz.
        """
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None or in_voila():
            return bundle
        return {**bundle, "text/html": self.static_html()}
