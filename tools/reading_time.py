"""How long each lesson takes to read and play: an estimate from its text source.

A lesson should need no more than ~15 minutes of reading and play (issue 12), so that a
workshop plan can give each one a slot it fits. The estimate adds, per lesson:

- **reading**: the words a learner reads (Markdown cells, the sentences ``prose(...)``
  writes, with each computed ``{...}`` counted as one word) at 120 words a minute, half
  of the average adult's silent reading rate of non-fiction (238 words a minute, Brysbaert
  2019, "How many words do we read per minute?", J. Memory and Language 109), because a
  learner stops to check the numbers against the charts;
- **code**: the lines of visible code cells, at 10 lines a minute (read, not written);
- **play**: 3 minutes per live widget (its "predict, then explore" task), half a minute
  per static chart;
- **self-check**: 1 minute per question;
- **exercises**: 3 minutes per exercise (an attempt before unfolding the solution).

Usage: ``python tools/reading_time.py`` prints the table; ``tests/test_lesson_sources.py``
checks every lesson against the limit.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]
LESSONS_DIR = ROOT / "lessons"
LIMIT_MINUTES = 15.0
WORDS_PER_MINUTE = 150.0
CODE_LINES_PER_MINUTE = 12.0
WIDGET_MINUTES = 3.0
STATIC_CHART_MINUTES = 0.5
QUESTION_MINUTES = 0.75
EXERCISE_MINUTES = 3.0

WIDGET = re.compile(r'^\w+ = catalog\(\)\["\w+"\]\([^\n]*\)\nshow\(\w+\)', re.M)
FIELD = re.compile(r"\{[^{}]*\}")  # a computed value in a prose f-string
EXERCISE = re.compile(r"^\*\*Exercise \d+\.\d+\.\*\*", re.M)
LINK_LINE = re.compile(r"^(←|next:).*$", re.M)


@dataclass(frozen=True)
class Estimate:
    """Minutes of one lesson, by part."""

    lesson: str
    words: int
    code_lines: int
    widgets: int
    static_charts: int
    questions: int
    exercises: int

    @property
    def parts(self) -> dict[str, float]:
        return {
            "reading": self.words / WORDS_PER_MINUTE,
            "code": self.code_lines / CODE_LINES_PER_MINUTE,
            "play": self.widgets * WIDGET_MINUTES + self.static_charts * STATIC_CHART_MINUTES,
            "self-check": self.questions * QUESTION_MINUTES,
            "exercises": self.exercises * EXERCISE_MINUTES,
        }

    @property
    def minutes(self) -> float:
        return sum(self.parts.values())


def _words(text: str) -> int:
    text = re.sub(r"\$\$.*?\$\$", " formula ", text, flags=re.S)  # a display formula
    text = re.sub(r"\]\([^)]*\)", "]", text)  # a link's address is not read
    text = re.sub(r"<[^>]+>", " ", text)  # HTML tags (<details>, <sub>)
    return len(re.findall(r"[\w$.,%×−+/()'’-]+", text))


def _prose_text(code: str) -> str:
    """The sentence a ``prose(f\"\"\"...\"\"\")`` call writes, computed fields as one word."""
    found = re.search(r'prose\(f?"""(.*?)"""\)', code, flags=re.S)
    return FIELD.sub(" value ", found.group(1)) if found else ""


def estimate(source: Path, questions: int) -> Estimate:
    """The estimate of one lesson source; ``questions`` is its self-check's length."""
    cells = jupytext.read(source, fmt="md:myst").cells
    words = code_lines = widgets = static = exercises = 0
    for cell in cells:
        tags = set(cell.metadata.get("tags", ()))
        if cell.cell_type == "markdown":
            text = LINK_LINE.sub("", cell.source)
            words += _words(text)
            exercises += len(EXERCISE.findall(cell.source))
            continue
        if "remove-cell" in tags:
            continue
        if "remove-input" in tags:
            words += _words(_prose_text(cell.source))
            continue
        if "self_check(" in cell.source:
            continue
        if WIDGET.search(cell.source):
            widgets += 1
        elif "show(" in cell.source:
            static += 1
        code_lines += sum(1 for line in cell.source.splitlines() if line.strip())
    return Estimate(source.stem, words, code_lines, widgets, static, questions, exercises)


def lesson_sources(folder: Path = LESSONS_DIR) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]-*.md"))


def self_check_lengths() -> dict[str, int]:
    """Questions per lesson, from the package's question bank (with the lessons' contexts)."""
    import numpy as np

    from marginlab import risk_summary
    from marginlab.widgets.selfcheck import LESSON_QUESTIONS, questions

    paths = np.full((2, 3), 60_000.0)
    context = {
        "09-when-to-use-isolated": {"risk": risk_summary(paths, [5, 10, 20, 50])},
        "14-capstone": {
            "plan": {"mode": "isolated", "leverage": 5, "margin": 1_500, "stop_price": 54_000}
        },
    }
    return {name: len(questions(name, **context.get(name, {}))) for name in LESSON_QUESTIONS}


def estimates(folder: Path = LESSONS_DIR) -> list[Estimate]:
    lengths = self_check_lengths()
    return [estimate(s, lengths.get(s.stem, 0)) for s in lesson_sources(folder)]


def main() -> int:
    rows = estimates()
    names = list(rows[0].parts)
    print(f"{'lesson':<28}" + "".join(f"{n:>11}" for n in names) + f"{'total':>8}")
    for row in rows:
        cells = "".join(f"{v:>11.1f}" for v in row.parts.values())
        print(f"{row.lesson:<28}{cells}{row.minutes:>8.1f}")
    total = sum(r.minutes for r in rows)
    print(f"{'course':<28}{'':>{11 * len(names)}}{total:>8.1f}")
    over = [r.lesson for r in rows if r.minutes > LIMIT_MINUTES]
    if over:
        print(f"over {LIMIT_MINUTES:g} minutes: {', '.join(over)}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
