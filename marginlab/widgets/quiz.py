"""Self-check questions with instant feedback ("predict, then check").

Correct answers are numbers the lesson computes with the engine and passes in, never
typed-in constants. After an attempt the learner sees whether it was right, a hint
when it was not, and the explanation. Instructors can reveal every answer at once
(``Quiz(..., instructor=True)`` or the environment variable ``MARGINLAB_INSTRUCTOR=1``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import ipywidgets as w

from marginlab.engine.errors import MarginError


@dataclass(frozen=True)
class Choice:
    """A multiple-choice question; ``correct`` is the index into ``options``."""

    prompt: str
    options: tuple[str, ...]
    correct: int
    explanation: str
    hint: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple(self.options))
        if len(self.options) < 2:
            raise MarginError(f"options must hold at least 2 answers, got {len(self.options)}")
        if not 0 <= self.correct < len(self.options):
            raise MarginError(
                f"correct must be an index from 0 to {len(self.options) - 1}, got {self.correct}"
            )

    @property
    def answer_text(self) -> str:
        return self.options[self.correct]

    def is_correct(self, value: object) -> bool:
        """True when ``value`` (an option index or its text) is the right option."""
        return value == self.correct or value == self.options[self.correct]


@dataclass(frozen=True)
class Numeric:
    """A numeric question; right within ``tolerance`` (same unit as ``answer``)."""

    prompt: str
    answer: float
    tolerance: float
    explanation: str
    unit: str = ""
    hint: str = ""

    def __post_init__(self) -> None:
        if not math.isfinite(self.answer):
            raise MarginError(f"answer must be a finite number, got {self.answer!r}")
        if not self.tolerance >= 0:
            raise MarginError(f"tolerance must be 0 or more, got {self.tolerance!r}")

    @property
    def answer_text(self) -> str:
        return f"{self.answer:,.2f} {self.unit}".strip()

    def is_correct(self, value: object) -> bool:
        """True when ``value`` is a number within ``tolerance`` of the answer."""
        try:
            number = float(str(value).replace(",", "").replace(self.unit, "").strip())
        except ValueError:
            return False
        return math.isfinite(number) and abs(number - self.answer) <= self.tolerance


Question = Choice | Numeric


def feedback(question: Question, value: object) -> tuple[bool, str]:
    """Whether an attempt is right, and the message shown for it."""
    if question.is_correct(value):
        return True, f"Correct. {question.explanation}"
    hint = f" Hint: {question.hint}" if question.hint else ""
    return False, f"Not quite.{hint} {question.explanation}".rstrip()


class QuestionBox(w.VBox):
    """One question: prompt, an input, a Check button and the feedback line."""

    def __init__(self, question: Question, number: int) -> None:
        self.question = question
        self.attempts = 0
        self.correct: bool | None = None
        prompt = w.HTML(f"<b>Q{number}.</b> {question.prompt}")
        if isinstance(question, Choice):
            self.input = w.RadioButtons(options=list(question.options), value=None)
        else:
            placeholder = f"a number in {question.unit}" if question.unit else "a number"
            self.input = w.Text(placeholder=placeholder, continuous_update=False)
        self.button = w.Button(description="Check", button_style="primary")
        self.button.on_click(lambda _: self.check())
        self.output = w.HTML("")
        self.output.add_class("marginlab-feedback")
        super().__init__([prompt, w.HBox([self.input, self.button]), self.output])
        self.add_class("marginlab-question")

    def answer(self, value: object) -> str:
        """Set the input as a learner would and check it; returns the feedback text."""
        if isinstance(self.question, Choice) and isinstance(value, int):
            value = self.question.options[value]
        self.input.value = value if isinstance(self.question, Choice) else str(value)
        return self.check()

    def check(self) -> str:
        """Check the current input and show the feedback."""
        if self.input.value in (None, ""):
            self.output.value = "Choose or type an answer first."
            return self.output.value
        self.attempts += 1
        self.correct, text = feedback(self.question, self.input.value)
        colour = "#009E73" if self.correct else "#D55E00"
        mark = "✔" if self.correct else "✘"
        self.output.value = f'<span style="color:{colour}">{mark} {text}</span>'
        return text

    def reveal(self) -> None:
        """Show the answer (instructor mode)."""
        self.output.value = (
            f"<i>Answer: {self.question.answer_text}.</i> {self.question.explanation}"
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
