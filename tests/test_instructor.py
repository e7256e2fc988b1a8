"""The instructor guide and the README keep up with the course: the 90-minute and 3-hour
plans add up (consecutive slots, the right total) and name every lesson, and the
lesson-by-lesson table and the README's course table list every lesson in order."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "lessons" / "INSTRUCTOR.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
LESSONS = sorted(p.stem for p in (ROOT / "lessons").glob("[0-9][0-9]-*.md"))
NUMBERS = [name[:2] for name in LESSONS]
SLOT = re.compile(r"^\| (\d):(\d\d)–(\d):(\d\d) \| ([^|]+) \|", re.M)


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    following = text.find("\n## ", start + len(heading))
    return text[start : following if following >= 0 else len(text)]


def slots(heading: str) -> list[tuple[int, int, str]]:
    """(start minute, end minute, what) of each row of a plan's table."""
    rows = SLOT.findall(section(GUIDE, heading))
    return [(int(h1) * 60 + int(m1), int(h2) * 60 + int(m2), what) for h1, m1, h2, m2, what in rows]


@pytest.mark.parametrize(
    ("heading", "minutes"),
    [("## The 90-minute workshop", 90), ("## The 3-hour workshop", 180)],
)
def test_workshop_plan_slots_are_consecutive_and_add_up(heading: str, minutes: int) -> None:
    plan = slots(heading)
    assert plan[0][0] == 0 and plan[-1][1] == minutes
    for (_, end, what), (start, _, _) in pairwise(plan):
        assert end == start, f"{what!r} ends at {end} but the next slot starts at {start}"
    assert all(end > start for start, end, _ in plan)
    said = r"The plan adds up to (\d+) minutes: ([\d +()a-z\n]+)\."
    stated = re.search(said, section(GUIDE, heading))
    assert stated and int(stated.group(1)) == minutes
    terms = [int(t) for t in re.findall(r"\d+", stated.group(2))]
    assert terms == [end - start for start, end, _ in plan] and sum(terms) == minutes


def test_three_hour_plan_teaches_every_lesson_in_order() -> None:
    taught = [what[:2] for _, _, what in slots("## The 3-hour workshop") if what[:2].isdigit()]
    assert taught == NUMBERS


def test_ninety_minute_plan_names_every_lesson_taught_or_as_homework() -> None:
    plan = slots("## The 90-minute workshop")
    taught = {what[:2] for _, _, what in plan if what[:2].isdigit()}
    wrap_up = next(what for _, _, what in plan if what.startswith("wrap-up"))
    row = section(GUIDE, "## The 90-minute workshop").split(wrap_up, 1)[1].split("\n", 1)[0]
    homework = set(re.findall(r"\b(\d\d)\b", row))
    assert taught | homework == set(NUMBERS) and not taught & homework


def test_lesson_by_lesson_table_lists_every_lesson_in_order() -> None:
    rows = re.findall(r"^\| (\d\d) [^|]+\|", section(GUIDE, "## Lesson by lesson"), re.M)
    assert rows == NUMBERS


def test_readme_course_table_lists_every_lesson_in_order() -> None:
    rows = re.findall(r"^\| (\d\d) [^|]+\|", section(README, "## The course"), re.M)
    assert rows == NUMBERS
