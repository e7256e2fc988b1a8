"""Every glossary term is defined (in bold) in the lesson the glossary names, and no lesson
uses it before that one: not its prose, its code's printed text, its self-check or the
summary of a widget it shows."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from marginlab import gbm_paths, risk_summary
from marginlab.scenarios import WHEN_TO_USE, when_to_use
from marginlab.widgets import catalog
from marginlab.widgets.selfcheck import LESSON_QUESTIONS, questions
from marginlab.widgets.stoploss import MODELS, PATHS, model_text, path_label

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
GLOSSARY = LESSONS / "glossary.md"
ORDER = sorted(LESSON_QUESTIONS)  # "00-start-here", "01-...": the teaching order
CAPSTONE_PLAN = {"mode": "isolated", "leverage": 5, "margin": 1_500, "stop_price": 54_000}


def glossary() -> dict[str, tuple[list[str], str]]:
    """Term -> (its spellings: the term and its "Also:" names, the defining lesson)."""
    entries = {}
    for block in re.split(r"^### ", GLOSSARY.read_text(encoding="utf-8"), flags=re.M)[1:]:
        term, _, body = block.partition("\n")
        also = re.search(r"Also: ([^.]+)\.", body)
        spellings = [term.strip()] + ([a.strip() for a in also.group(1).split(",")] if also else [])
        defined = re.search(r"Defined in \[(\d\d)\]\((\d\d-[\w-]+)\.ipynb\)", body)
        assert defined, f"glossary entry {term!r} names no defining lesson"
        entries[term.strip()] = (spellings, defined.group(2))
    return entries


TERMS = glossary()


@cache
def lesson_text(lesson: str) -> str:
    """Everything a learner reads in ``lesson``: its source, its self-check, and the
    summaries of the widgets it shows (at their first state)."""
    source = (LESSONS / f"{lesson}.md").read_text(encoding="utf-8")
    context = {}
    if lesson.startswith("09-"):
        paths = gbm_paths(60_000, n_paths=50, n_steps=50, seed=7)
        context["risk"] = risk_summary(paths, [5, 10, 20, 50])
    if lesson.startswith("14-"):
        context["plan"] = CAPSTONE_PLAN
    parts = [source]
    for q in questions(lesson, **context):
        parts += [q.prompt, q.explanation, q.hint, *getattr(q, "options", ())]
        parts += [m.feedback if hasattr(m, "feedback") else m[1] for m in q.mistakes]
    for name in sorted(set(re.findall(r'catalog\(\)\["(\w+)"\]', source))):
        parts.append(catalog()[name]().summary)
        parts += widget_texts(name)
    return "\n".join(parts)


def widget_texts(name: str) -> list[str]:
    """The texts a widget shows on choices the learner can make beyond its first state:
    every scenario's claim, caveat and model; every stop-loss path and path model."""
    if name == "when_to_use":
        scenarios = [when_to_use(n, n_paths=2) for n in WHEN_TO_USE]
        return [t for s in scenarios for t in (s.title, s.claim, s.caveat, s.model)]
    if name == "stop_loss":
        return [path_label(p) for p in PATHS] + [model_text(m) for m in MODELS]
    return []


def _uses(text: str, spelling: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(spelling)}(s|es)?(?![\w-])", text, re.I) is not None


def test_glossary_has_the_terms_a_beginner_needs() -> None:
    wanted = {
        "mark price",
        "last price",
        "notional",
        "margin ratio",
        "maintenance margin",
        "bracket",
        "equity",
        "unrealized PnL",
        "bankruptcy price",
        "ROE",
        "hedge mode",
        "funding",
        "insurance fund",
        "ADL",
        # the words of fees, funding, stops and simulated paths (lessons 04, 08-13)
        "partial liquidation",
        "available balance",
        "stop-loss",
        "stop-market order",
        "gap",
        "wick",
        "maker",
        "taker",
        "funding interval",
        "random walk",
        "volatility",
        "drift",
        "crash jump",
    }
    assert wanted <= set(TERMS)


@pytest.mark.parametrize("term", sorted(TERMS))
def test_glossary_term_is_defined_in_bold_where_the_glossary_says(term: str) -> None:
    spellings, lesson = TERMS[term]
    text = (LESSONS / f"{lesson}.md").read_text(encoding="utf-8")
    bold = re.findall(r"\*\*([^*]+)\*\*", text)
    assert any(_uses(b, s) for b in bold for s in spellings), f"{term!r} is not bold in {lesson}"


@pytest.mark.parametrize("term", sorted(TERMS))
def test_glossary_term_is_not_used_before_the_lesson_that_defines_it(term: str) -> None:
    spellings, lesson = TERMS[term]
    earlier = ORDER[: ORDER.index(lesson)]
    used = [(e, s) for e in earlier for s in spellings if _uses(lesson_text(e), s)]
    assert used == [], f"{term!r} is defined in {lesson} but used earlier: {used}"


def test_ninety_minute_plan_names_the_words_its_lessons_borrow_from_homework() -> None:
    """A word a lesson of lessons/INSTRUCTOR.md's 90-minute plan uses, but a lesson the
    plan leaves as homework (or teaches later) defines, is named in the plan's notes, so
    that the instructor defines it in the room."""
    guide = (LESSONS / "INSTRUCTOR.md").read_text(encoding="utf-8")
    start = guide.index("## The 90-minute workshop")
    plan = guide[start : guide.index("\n## ", start + 1)]
    taught = re.findall(r"^\| \d:\d\d–\d:\d\d \| (\d\d) ", plan, re.M)
    names = {lesson[:2]: lesson for lesson in ORDER}
    borrowed = {
        term
        for term, (spellings, defined_in) in TERMS.items()
        for i, number in enumerate(taught)
        if defined_in[:2] not in taught[:i]
        and defined_in[:2] != number
        and any(_uses(lesson_text(names[number]), s) for s in spellings)
    }
    assert borrowed, "the plan's lessons borrow no word: this test would check nothing"
    assert sorted(term for term in borrowed if f"*{term}*" not in plan) == []
