"""The self-check quiz: feedback, hints, tolerance, instructor reveal."""

import pytest

from marginlab.scenarios import guide_account
from marginlab.widgets.quiz import Choice, Numeric, Quiz, feedback

ISOLATED_LP = guide_account("isolated").liquidation_price("BTCUSDT")  # 54,216.87


def _numeric() -> Numeric:
    return Numeric(
        prompt="Isolated liquidation price?",
        answer=ISOLATED_LP,
        tolerance=1.0,
        unit="USDT",
        hint="Only the 2,000 USDT stands behind the position.",
        explanation="2,000 USDT of margin covers a fall of about 9.6 %.",
    )


def test_numeric_within_tolerance_is_correct():
    assert _numeric().is_correct("54,216") and _numeric().is_correct(54_217.5)


def test_numeric_outside_tolerance_or_text_is_wrong():
    assert not _numeric().is_correct(54_218.0)
    assert not _numeric().is_correct("a lot")


def test_feedback_wrong_answer_gives_hint_and_explanation():
    right, text = feedback(_numeric(), 30_000)
    assert not right
    assert "Hint: Only the 2,000 USDT" in text and "9.6 %" in text


def test_choice_accepts_index_or_text():
    q = Choice("Which mode can lose the whole account?", ("Isolated", "Cross"), 1, "Cross.")
    assert q.is_correct(1) and q.is_correct("Cross") and not q.is_correct("Isolated")


def test_choice_correct_index_out_of_range_raises():
    with pytest.raises(ValueError, match="correct must be an index from 0 to 1"):
        Choice("?", ("a", "b"), 2, "")


def test_quiz_answer_shows_feedback_and_counts_score():
    quiz = Quiz([_numeric(), Choice("Mode?", ("Isolated", "Cross"), 0, "Isolated.")])
    assert quiz.answer(0, f"{ISOLATED_LP:.2f}").startswith("Correct")
    assert quiz.answer(1, "Cross").startswith("Not quite")
    assert quiz.score == (1, 2)
    assert "✔" in quiz.boxes[0].output.value and "✘" in quiz.boxes[1].output.value


def test_quiz_empty_answer_asks_for_one_without_counting():
    quiz = Quiz([_numeric()])
    assert quiz.boxes[0].check() == "Choose or type an answer first."
    assert quiz.boxes[0].attempts == 0


def test_quiz_instructor_reveal_shows_engine_answer(monkeypatch):
    monkeypatch.setenv("MARGINLAB_INSTRUCTOR", "1")
    quiz = Quiz([_numeric()])
    assert quiz.children[-1].description == "Reveal answers"
    quiz.reveal()
    assert "54,216.87 USDT" in quiz.boxes[0].output.value


def test_quiz_without_instructor_has_no_reveal_button(monkeypatch):
    monkeypatch.delenv("MARGINLAB_INSTRUCTOR", raising=False)
    assert all(
        getattr(c, "description", "") != "Reveal answers" for c in Quiz([_numeric()]).children
    )
