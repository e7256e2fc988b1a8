"""The self-check quiz: a hint first, the answer second, feedback aimed at known mistakes,
accessible feedback, the static form, and every lesson's questions from the engine."""

from __future__ import annotations

import math

import pytest

from marginlab import Account, gbm_paths, risk_summary
from marginlab.scenarios import guide_account
from marginlab.widgets.quiz import (
    ANSWER_LABEL,
    TONES,
    Choice,
    Feedback,
    Mistake,
    Numeric,
    Quiz,
    feedback,
)
from marginlab.widgets.selfcheck import (
    BANKRUPTCY_MISTAKE,
    DISTANCE_MISTAKE,
    LESSON_QUESTIONS,
    questions,
    self_check,
)
from marginlab.widgets.show import VOILA_KERNEL_ENV, WIDGET_MIME

ISOLATED_LP = guide_account("isolated").liquidation_price("BTCUSDT")  # 54,216.87


def _numeric() -> Numeric:
    return Numeric(
        prompt="Isolated liquidation price?",
        answer=ISOLATED_LP,
        tolerance=1.0,
        unit="USDT",
        hint="Only the 2,000 USDT stands behind the position.",
        explanation="2,000 USDT of margin covers a fall of about 9.6 %.",
        mistakes=(Mistake(54_000.0, "That is the bankruptcy price."),),
    )


def test_numeric_within_tolerance_is_correct():
    assert _numeric().is_correct("54,216") and _numeric().is_correct(54_217.5)
    assert _numeric().is_correct("54216.87 USDT")


def test_numeric_outside_tolerance_or_text_is_wrong():
    assert not _numeric().is_correct(54_218.0)
    assert not _numeric().is_correct("a lot")


def test_feedback_first_miss_gives_hint_without_the_answer():
    tone, text = feedback(_numeric(), 30_000, attempts=1)
    assert tone == "hint" and "Hint: Only the 2,000 USDT" in text
    assert "54,216.87" not in text and "9.6 %" not in text


def test_feedback_second_miss_gives_answer_and_why():
    tone, text = feedback(_numeric(), 30_000, attempts=2)
    assert tone == "wrong" and "54,216.87 USDT" in text and "9.6 %" in text


def test_feedback_known_mistake_gets_its_own_message_first():
    tone, text = feedback(_numeric(), "54,000", attempts=1)
    assert tone == "hint" and "bankruptcy price" in text and "Hint" not in text


def test_feedback_not_a_number_says_so():
    assert "not a number" in feedback(_numeric(), "about 54k", attempts=1)[1]


def test_choice_accepts_index_or_text_and_names_mistakes():
    q = Choice(
        "Which can lose the whole account?",
        ("Isolated", "Cross"),
        1,
        "Cross.",
        mistakes=((0, "Isolated loses only its margin."),),
    )
    assert q.is_correct(1) and q.is_correct("Cross") and not q.is_correct("Isolated")
    assert feedback(q, "Isolated")[1] == "Not quite. Isolated loses only its margin. Try again."


def test_choice_correct_index_out_of_range_raises():
    with pytest.raises(ValueError, match="correct must be an index from 0 to 1"):
        Choice("?", ("a", "b"), 2, "")


def test_choice_mistake_on_the_correct_option_raises():
    with pytest.raises(ValueError, match="mistakes must name wrong options"):
        Choice("?", ("a", "b"), 1, "", mistakes=((1, "no"),))


def test_quiz_hint_then_answer_then_score():
    quiz = Quiz([_numeric(), Choice("Mode?", ("Isolated", "Cross"), 0, "Isolated.")])
    assert quiz.answer(1, "Cross").startswith("Not quite.")
    assert "Isolated." not in quiz.boxes[1].output.text  # the answer waits
    assert "The answer: Isolated" in quiz.answer(1, "Cross")
    assert quiz.answer(0, f"{ISOLATED_LP:.2f}").startswith("Correct")
    assert quiz.score == (1, 2)
    assert quiz.boxes[0].output.text.startswith("✔") and quiz.boxes[0].output.tone == "correct"


def test_quiz_show_answer_button_reveals_answer_and_why():
    quiz = Quiz([_numeric()])
    quiz.boxes[0].show_button.click()
    assert "54,216.87 USDT" in quiz.boxes[0].output.text and quiz.boxes[0].revealed


def test_quiz_empty_answer_asks_for_one_without_counting():
    quiz = Quiz([_numeric()])
    assert quiz.boxes[0].check() == "Choose or type an answer first."
    assert quiz.boxes[0].attempts == 0


def test_quiz_instructor_reveal_shows_engine_answer(monkeypatch):
    monkeypatch.setenv("MARGINLAB_INSTRUCTOR", "1")
    quiz = Quiz([_numeric()])
    assert quiz.children[-1].description == "Reveal answers"
    quiz.reveal()
    assert "54,216.87 USDT" in quiz.boxes[0].output.text


def test_quiz_without_instructor_has_no_reveal_button(monkeypatch):
    monkeypatch.delenv("MARGINLAB_INSTRUCTOR", raising=False)
    assert all(
        getattr(c, "description", "") != "Reveal answers" for c in Quiz([_numeric()]).children
    )


def test_quiz_inputs_have_accessible_names():
    quiz = Quiz([_numeric(), Choice("Mode?", ("Isolated", "Cross"), 0, "Isolated.")])
    for box in quiz.boxes:
        assert box.input.description == ANSWER_LABEL  # a <label for=...> of the input
    assert quiz.boxes[1].input.options == ("Isolated", "Cross")  # each radio's own label


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_of_known_pairs():
    assert math.isclose(contrast("#000000", "#ffffff"), 21.0)
    assert contrast("#009E73", "#ffffff") < 4.5  # the old feedback green failed AA


@pytest.mark.parametrize("tone", sorted(TONES))
def test_feedback_colours_meet_wcag_aa(tone):
    colour, background = TONES[tone]
    assert contrast(colour, background) >= 4.5


def test_feedback_is_a_live_region_in_the_tones_colours():
    line = Feedback()
    line.say("wrong", "Not quite.")
    assert (line.color, line.background, line.text) == (*TONES["wrong"], "✘ Not quite.")
    assert 'aria-live", "polite"' in Feedback._esm and 'role", "status"' in Feedback._esm
    with pytest.raises(ValueError, match="tone must be one of"):
        line.say("loud", "x")


def test_quiz_static_html_folds_every_answer(monkeypatch):
    monkeypatch.delenv(VOILA_KERNEL_ENV, raising=False)
    bundle = Quiz([_numeric()])._repr_mimebundle_()
    assert WIDGET_MIME in bundle
    html = bundle["text/html"]
    question, answer = html.split("<details>")
    assert "Isolated liquidation price?" in question and "54,216.87" not in question
    assert "54,216.87 USDT" in answer


def test_quiz_in_voila_has_no_static_copy(monkeypatch):
    monkeypatch.setenv(VOILA_KERNEL_ENV, "kernel")
    assert "text/html" not in Quiz([_numeric()])._repr_mimebundle_()


# --------------------------------------------------------------------------- the bank
def _context(lesson: str) -> dict[str, object]:
    if lesson.startswith("09-"):
        paths = gbm_paths(60_000, n_paths=200, n_steps=200, seed=7)
        return {"risk": risk_summary(paths, [5, 10, 20, 50])}
    if lesson.startswith("14-"):
        return {"plan": {"mode": "isolated", "leverage": 5, "margin": 1_500, "stop_price": 54_000}}
    return {}


@pytest.mark.parametrize("lesson", sorted(LESSON_QUESTIONS))
def test_self_check_every_lesson_builds_and_accepts_its_own_answers(lesson):
    quiz = self_check(lesson, **_context(lesson))
    for box in quiz.boxes:
        right = box.question.correct if isinstance(box.question, Choice) else box.question.answer
        assert box.answer(right).startswith("Correct"), box.question.prompt
    assert quiz.score == (len(quiz.boxes), len(quiz.boxes))


def test_self_check_unknown_lesson_names_the_lessons():
    with pytest.raises(ValueError, match="lesson must be one of 00-start-here"):
        self_check("99-nope")


def test_self_check_liquidation_price_mistakes_get_targeted_feedback():
    lp_question = questions("01-isolated-margin")[1]
    bankrupt = feedback(lp_question, "54,000", attempts=1)[1]
    distance = feedback(lp_question, f"{60_000 - ISOLATED_LP:.2f}", attempts=1)[1]
    assert BANKRUPTCY_MISTAKE in bankrupt and DISTANCE_MISTAKE in distance


@pytest.mark.parametrize(
    ("plan", "first_kind"),
    [
        ({"mode": "isolated", "leverage": 5, "margin": 1_500, "stop_price": 54_000}, Numeric),
        ({"mode": "cross", "leverage": 5, "margin": 1_500, "stop_price": 54_000}, Choice),
        ({"mode": "cross", "leverage": 20, "margin": 1_500, "stop_price": 57_000}, Numeric),
    ],
    ids=["isolated-5x", "cross-5x-no-liquidation", "cross-20x"],
)
def test_self_check_capstone_describes_the_plan_its_answers_come_from(plan, first_kind):
    first, loss, _ = questions("14-capstone", plan=plan)
    assert isinstance(first, first_kind)
    described = f"{plan['mode']}, {plan['leverage']}x, {plan['margin']:,} USDT margin"
    assert described in first.prompt and described in loss.prompt
    account = Account(wallet_balance=10_000)
    account = account.set_margin_mode("BTCUSDT", plan["mode"]).open(
        "BTCUSDT", side="long", price=60_000, leverage=plan["leverage"], margin=plan["margin"]
    )
    if first_kind is Numeric:
        assert first.answer == account.liquidation_price("BTCUSDT")
    else:
        assert math.isnan(account.liquidation_price("BTCUSDT"))
    position = account.position("BTCUSDT")
    assert loss.answer == position.quantity * (60_000 - plan["stop_price"])


def test_self_check_capstone_plan_missing_a_key_names_it():
    with pytest.raises(ValueError, match="missing stop_price"):
        questions("14-capstone", plan={"mode": "isolated", "leverage": 5, "margin": 1_500})


def test_self_check_stop_costs_gap_fills_at_the_gap_not_the_stop():
    # 1/3 BTC, stop 57,000, gap 60,000 -> 52,800: cross loses 1/3 × 7,200 = 2,400 (planned
    # 1/3 × 3,000 = 1,000); isolated at most its 2,000 margin.
    gap = questions("12-what-a-stop-costs")[0]
    assert gap.answer == pytest.approx(2_400.0, abs=1e-9)
    assert [m.value for m in gap.mistakes] == pytest.approx([1_000.0, 2_000.0], abs=1e-9)
    assert "That is the loss planned at the stop price" in feedback(gap, "1000", attempts=1)[1]


def test_self_check_fees_and_funding_numbers_by_hand():
    fees, funding, same = questions("10-fees-and-funding")
    assert fees.answer == pytest.approx(10.0, abs=1e-9)  # 2 × 0.05 % × 100, in %
    assert funding.answer == pytest.approx(420.0, abs=1e-9)  # 21 × 20,000 × 0.1 %
    assert same.options[same.correct] == "the same in both"


def test_self_check_when_to_use_isolated_reads_the_lessons_risk_table():
    paths = gbm_paths(60_000, n_paths=200, n_steps=200, seed=7)
    risk = risk_summary(paths, [20])
    share = questions("09-when-to-use-isolated", risk=risk)[0]
    assert share.answer == risk.loc[(20.0, "isolated"), "liquidation_probability"]


def test_self_check_when_to_use_cross_large_account_has_no_liquidation_price_as_asked():
    from marginlab.scenarios import when_to_use

    why = questions("08-when-to-use-cross")[2]
    assert "has no liquidation price" in why.prompt
    account = when_to_use("large_account_small_positions", n_paths=2).account("cross")
    assert math.isnan(account.liquidation_price("BTCUSDT"))
