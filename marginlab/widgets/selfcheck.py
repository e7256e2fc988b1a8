"""Every lesson's self-check questions, keyed by lesson, with answers from the engine.

The questions live here, not in the lessons, so a lesson's source shows no answer, hint
or explanation before the learner tries: a lesson cell is ``self_check("01-isolated-margin")``.
Each answer is computed by the engine from the scenario the lesson uses (or from what the
lesson passes in: lesson 09 its risk table, the capstone the learner's plan), so it is
always the number the lesson's charts show. Known mistakes get feedback of their own:
the bankruptcy price typed for the liquidation price, a distance for a price, what is
lost for what is kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from marginlab.charts import format as fmt
from marginlab.engine import (
    FEE_RATES,
    Account,
    PathModel,
    fee_share_of_margin,
    hold_with_funding,
    replay,
    round_trip_fees,
    simulate_paths,
    teaching_path,
)
from marginlab.scenarios import (
    GUIDE,
    Trade,
    guide_account,
    two_positions_account,
    when_to_use,
)
from marginlab.scenarios.guide import NEIGHBOUR_LOSING_MARKS, losing_neighbour_account
from marginlab.widgets.quiz import Choice, Mistake, Numeric, Question, Quiz

if TYPE_CHECKING:  # pandas is imported where a table is built (lesson kernels stay small)
    import pandas as pd

__all__ = ["LESSON_QUESTIONS", "questions", "self_check"]

BANKRUPTCY_MISTAKE = (
    "That is the bankruptcy price, where the money behind the position is used up exactly. "
    "Liquidation comes earlier, while the maintenance margin is still there."
)
DISTANCE_MISTAKE = "That is the distance from entry; the question asks for the price itself."
LIQUIDATED = 1 - 1e-9  # a mark just past the liquidation price


def _isolated(leverage: float, margin: float = 2_000.0, side: str = "long") -> Account:
    account = Account(wallet_balance=GUIDE.wallet_balance).set_margin_mode("BTCUSDT", "isolated")
    return account.open(
        "BTCUSDT", side=side, price=GUIDE.entry_price, leverage=leverage, margin=margin
    )


def _price_mistakes(account: Account) -> tuple[Mistake, ...]:
    """The bankruptcy price and the distance from entry, typed for a liquidation price."""
    levels = account.levels("BTCUSDT")
    lp, bp = levels.liquidation_price, levels.bankruptcy_price
    found = [Mistake(abs(levels.entry_price - lp), DISTANCE_MISTAKE)]
    if math.isfinite(bp):
        found.append(Mistake(bp, BANKRUPTCY_MISTAKE))
    return tuple(found)


def _start_here() -> list[Question]:
    return [
        Numeric(
            "With 2,000 USDT of margin at 10x, what is the position's notional (USDT)?",
            answer=GUIDE.notional,
            tolerance=1,
            unit="USDT",
            hint="The notional is the position's size in USDT.",
            explanation="notional = margin × leverage: 2,000 × 10.",
            mistakes=(
                Mistake(GUIDE.margin, "That is the margin; leverage multiplies it."),
                Mistake(
                    GUIDE.quantity,
                    "That is the size in BTC; the notional is in USDT.",
                    tolerance=0.01,
                ),
            ),
        ),
        Choice(
            "In which mode does only the margin you assign stand behind a position?",
            ("Cross", "Isolated"),
            correct=1,
            explanation="Isolated: each position has its own margin; cross shares the balance.",
            mistakes=((0, "In cross the whole available balance backs every cross position."),),
        ),
        Choice(
            "Which price decides when a position is liquidated?",
            ("the last traded price", "the mark price"),
            correct=1,
            explanation="The mark price: a brief wick in the last price alone liquidates no one.",
            mistakes=((0, "The last price can wick on one trade; the margin checks use another."),),
        ),
    ]


def _isolated_margin() -> list[Question]:
    account = guide_account("isolated")
    lp = account.liquidation_price("BTCUSDT")
    outcome = account.liquidate({"BTCUSDT": lp * LIQUIDATED})
    tier = account.tiers("BTCUSDT").lookup(GUIDE.notional)
    return [
        Numeric(
            "The guide's isolated long is liquidated. How much of the 10,000 USDT account is left?",
            answer=outcome.kept_usdt,
            tolerance=1,
            unit="USDT",
            hint="Only the assigned margin is at risk.",
            explanation="The 2,000 assigned margin is lost; the rest was never at risk.",
            mistakes=(Mistake(outcome.loss_usdt, "That is what is lost; how much is left?"),),
        ),
        Numeric(
            "At what BTC price (USDT) is that isolated long liquidated?",
            answer=lp,
            tolerance=5,
            unit="USDT",
            hint=(
                f"Solve M + Q(P − E) = Q·P·r − c for P, with M = {fmt.usdt(GUIDE.margin)}, "
                f"Q = 1/3 and the bracket's r = {fmt.percent(tier.maintenance_rate)}, "
                f"c = {fmt.usdt(tier.maintenance_amount)}."
            ),
            explanation=f"{fmt.price(lp)}: {fmt.percent(1 - lp / GUIDE.entry_price)} below entry.",
            mistakes=_price_mistakes(account),
        ),
        Choice(
            "Which price comes first as BTC falls?",
            ("the bankruptcy price", "the liquidation price"),
            correct=1,
            explanation="Liquidation comes first, while the maintenance margin is still left.",
        ),
    ]


def _cross_margin() -> list[Question]:
    account = guide_account("cross")
    lp = account.liquidation_price("BTCUSDT")
    outcome = account.liquidate({"BTCUSDT": lp * LIQUIDATED})
    isolated = guide_account("isolated")
    return [
        Numeric(
            "At what BTC price (USDT) is the guide's position liquidated in cross mode?",
            answer=lp,
            tolerance=5,
            unit="USDT",
            hint="Now the whole 10,000 USDT stands behind the 1/3 BTC.",
            explanation=f"{fmt.price(lp)}: {fmt.percent(1 - lp / GUIDE.entry_price)} below entry.",
            mistakes=(
                Mistake(
                    isolated.liquidation_price("BTCUSDT"),
                    "That is the isolated price: in cross the whole wallet backs it.",
                ),
                *_price_mistakes(account),
            ),
        ),
        Numeric(
            "How much of the 10,000 USDT is left after that cross liquidation?",
            answer=outcome.kept_usdt,
            tolerance=1,
            unit="USDT",
            hint="The whole cross wallet backs the position.",
            explanation="Nothing: the cross wallet balance is lost.",
            mistakes=(
                Mistake(
                    GUIDE.wallet_balance - GUIDE.margin,
                    "That is what the isolated account keeps; this one is cross.",
                ),
            ),
        ),
    ]


def _liquidation_threshold() -> list[Question]:
    at20 = _isolated(20)
    lp20 = at20.liquidation_price("BTCUSDT")
    distance = 100 * (1 - lp20 / GUIDE.entry_price)
    crowded = losing_neighbour_account("cross").liquidation_price("BTCUSDT", NEIGHBOUR_LOSING_MARKS)
    toward = crowded > guide_account("cross").liquidation_price("BTCUSDT")
    return [
        Numeric(
            "Isolated BTC long at 20x from 60,000: how far below entry is liquidation (in %)?",
            answer=distance,
            tolerance=0.05,
            unit="%",
            hint="Roughly 1/leverage, a little less because of the maintenance margin.",
            explanation=f"{distance:.2f} %: about half the 10x distance.",
            mistakes=(
                Mistake(
                    lp20, "That is the price; the question asks for the distance in %.", tolerance=5
                ),
                Mistake(
                    100 / 20,
                    "That is 1/leverage; the maintenance margin makes it less.",
                    tolerance=0.01,
                ),
            ),
        ),
        Choice(
            "A cross position's other cross positions are losing heavily. Its liquidation price…",
            ("moves away from entry", "moves toward entry", "does not change"),
            correct=1 if toward else 0,
            explanation="Their losses eat the shared pool, so less stands behind this position.",
            mistakes=((2, "That is isolated; in cross the pool is shared."),),
        ),
    ]


def _loss_at_liquidation() -> list[Question]:
    at50 = guide_account("cross").state({"BTCUSDT": 50_000})
    kept_isolated = guide_account("isolated").liquidate({"BTCUSDT": 50_000}).kept_usdt
    return [
        Numeric(
            "BTC at 50,000: what is the cross account's margin balance (USDT)?",
            answer=at50.margin_balance,
            tolerance=1,
            unit="USDT",
            hint="The wallet plus the unrealized PnL of 1/3 BTC from 60,000 to 50,000.",
            explanation=f"{fmt.usdt(at50.margin_balance)}: not liquidated, but down.",
            mistakes=(
                Mistake(at50.unrealized_pnl, "That is the unrealized PnL; add the wallet."),
                Mistake(-at50.unrealized_pnl, "That is the loss so far; add it to the wallet."),
                Mistake(
                    kept_isolated,
                    "That is what the isolated account keeps after its liquidation; this is cross.",
                ),
            ),
        ),
        Choice(
            "Which mode can lose the entire account in one liquidation?",
            ("Isolated", "Cross"),
            correct=1,
            explanation="Cross: the whole cross wallet balance stands behind the position.",
        ),
        Choice(
            "The insurance fund cannot take over a bankrupt position. What comes next?",
            (
                "the exchange pays the loss itself",
                "auto-deleveraging closes positions on the other side",
                "the position stays open",
            ),
            correct=1,
            explanation="Auto-deleveraging (ADL) is the last step of the liquidation process.",
        ),
    ]


def _several_positions() -> list[Question]:
    cross = two_positions_account("cross")
    at2500 = cross.liquidation_price("BTCUSDT", {"ETHUSDT": 2_500})
    return [
        Numeric(
            "Cross mode, ETH at 2,500: where does the BTC long liquidate (USDT)?",
            answer=at2500,
            tolerance=5,
            unit="USDT",
            hint="The ETH short is up; its profit joins the pool behind BTC.",
            explanation="Further from entry than with ETH at 3,000: the short's gain is a buffer.",
            mistakes=(
                Mistake(
                    two_positions_account("isolated").liquidation_price("BTCUSDT"),
                    "That is the isolated price; in cross the ETH gain backs BTC.",
                ),
                Mistake(
                    cross.liquidation_price("BTCUSDT", {"ETHUSDT": 3_000}),
                    "That is the price with ETH at 3,000; the short's gain moves it.",
                ),
            ),
        ),
        Choice(
            "Isolated mode: ETH rises 20 %. The BTC liquidation price…",
            ("moves toward entry", "moves away from entry", "does not change"),
            correct=2,
            explanation="Isolated positions are fully independent.",
            mistakes=((0, "That is contagion, which happens in cross, not isolated."),),
        ),
    ]


def _adding_margin() -> list[Question]:
    account = guide_account("isolated")
    topped = account.add_margin("BTCUSDT", 1_000)
    after = topped.liquidation_price("BTCUSDT")
    lost = topped.liquidate({"BTCUSDT": 50_000}).loss_usdt
    return [
        Numeric(
            "After adding 1,000 USDT, where is the isolated long liquidated (USDT)?",
            answer=after,
            tolerance=5,
            unit="USDT",
            hint="Now 3,000 stand behind 1/3 BTC.",
            explanation=f"{fmt.price(after)}, lower than before by 1,000 / (Q(1 − r)).",
            mistakes=(
                Mistake(
                    account.liquidation_price("BTCUSDT"), "That is the price before the top-up."
                ),
                *_price_mistakes(topped),
            ),
        ),
        Numeric(
            "BTC then falls to 50,000 and the position is liquidated. How much is lost (USDT)?",
            answer=lost,
            tolerance=1,
            unit="USDT",
            hint="Everything assigned to the position.",
            explanation=f"{fmt.usdt(lost)}: the top-up delayed the liquidation and made it larger.",
            mistakes=(Mistake(GUIDE.margin, "The top-up is assigned to the position too."),),
        ),
    ]


def _switching_modes() -> list[Question]:
    return [
        Choice(
            "Your cross BTC long is losing. Can you switch BTCUSDT to isolated to cap the loss?",
            ("Yes, at any time", "No, not while the position is open"),
            correct=1,
            explanation="The switch is refused while a position exists: close, switch, re-open.",
        ),
        Choice(
            "Can BTCUSDT be cross while ETHUSDT is isolated?",
            ("Yes", "No"),
            correct=0,
            explanation="The margin mode is set per trading pair.",
        ),
    ]


def _share_of_paths(prompt: str, share: float, *, hint: str, explanation: str) -> Numeric:
    """A question whose answer is a share of the simulated paths (0 to 1), with feedback for
    the share typed as a percentage."""
    return Numeric(
        prompt,
        answer=share,
        tolerance=0.01,
        hint=hint,
        explanation=explanation,
        decimals=3,
        mistakes=(
            Mistake(100 * share, "Give a fraction from 0 to 1, not a percentage.", tolerance=1),
        ),
    )


def _when_to_use_cross() -> list[Question]:
    hedge = when_to_use("hedge").compare()
    cross_less = (
        hedge.loc["cross", "liquidation_probability"]
        < hedge.loc["isolated", "liquidation_probability"]
    )
    trend = when_to_use("trend_trade_through_drawdown")
    share = float(trend.compare().loc["isolated", "liquidation_probability"])
    large = when_to_use("large_account_small_positions", n_paths=2)
    position = large.account("cross").position("BTCUSDT")
    return [
        Choice(
            "In the hedge case (a long and a short that offset), which mode liquidated less often?",
            ("Cross", "Isolated"),
            correct=0 if cross_less else 1,
            explanation="In cross, the gain on one leg stands behind the loss on the other.",
        ),
        _share_of_paths(
            "In the trend trade, on what fraction of the paths was the isolated position "
            "liquidated? (0 to 1)",
            share,
            hint="Read the trend trade's table in the lesson, or pick it in the widget.",
            explanation="The drawn dip is deeper than the isolated liquidation distance.",
        ),
        Choice(
            f"A {fmt.usdt(position.entry_notional)} long in cross, in a "
            f"{fmt.usdt(large.wallet_balance)} account, has no liquidation price. Why?",
            (
                "cross positions are never liquidated",
                "the wallet covers a fall of BTC to zero",
                "the leverage is low",
            ),
            correct=1,
            explanation=(
                f"A fall to zero costs {fmt.usdt(position.entry_notional)}, less than what "
                "backs the position: no positive price liquidates it. The caveat: a position "
                "large next to the account liquidates in cross too."
            ),
            mistakes=(
                (0, "They are: with a losing neighbour or a small wallet (lessons 03 and 08)."),
                (2, "Cross does not depend on the leverage for a given size (lesson 03)."),
            ),
        ),
    ]


def _when_to_use_isolated(risk: pd.DataFrame) -> list[Question]:
    share = float(risk.loc[(20.0, "isolated"), "liquidation_probability"])
    day = when_to_use("high_leverage_short_term")
    table = day.compare()
    capped = float(table.loc["isolated", "worst_loss_usdt"])
    margin = day.account("isolated").position("BTCUSDT").isolated_margin
    return [
        _share_of_paths(
            "At 20x, on what fraction of the paths was the isolated position liquidated? (0 to 1)",
            share,
            hint="Read the risk table of the lesson.",
            explanation="More leverage, closer liquidation, more paths touch it.",
        ),
        Numeric(
            "In the high-leverage day trade, what is the isolated position's worst loss over "
            "all the paths (USDT)?",
            answer=capped,
            tolerance=1,
            unit="USDT",
            hint="What can an isolated liquidation take?",
            explanation=f"{fmt.usdt(capped)}: its margin, on every path that liquidates it.",
            mistakes=(
                Mistake(
                    float(table.loc["cross", "worst_loss_usdt"]),
                    "That is the cross worst loss; isolated is capped.",
                ),
            ),
        ),
        Choice(
            "A simulated table shows isolated losing less on average than cross. What must "
            "you read before believing it?",
            ("the number of paths only", "the paths' model: drift, crashes, volatility"),
            correct=1,
            explanation=(
                f"The worst case of {fmt.usdt(margin)} comes from the mode; the averages "
                "come from the model (exercise 09.1)."
            ),
        ),
    ]


def _fees_and_funding() -> list[Question]:
    taker = FEE_RATES["taker"]
    share = 100 * float(fee_share_of_margin(100, taker))
    week = {
        m: hold_with_funding(Trade().account(m), intervals=21, rate=0.001)
        for m in ("isolated", "cross")
    }
    paid = float(week["isolated"].paid_usdt[-1])
    fees = round_trip_fees(Trade(fee_rate=taker).account("isolated"), "BTCUSDT")
    return [
        Numeric(
            f"Taker fees ({fmt.percent(taker)} per fill) to open and close at 100x: what "
            "share of the margin is that (in %)?",
            answer=share,
            tolerance=0.05,
            unit="%",
            hint="The margin is notional / leverage; the fees are twice notional × rate.",
            explanation=f"2 × {fmt.percent(taker)} × 100 = {share:.2f} % of the margin.",
            mistakes=(
                Mistake(100 * 2 * taker, "That is the share of the notional, not of the margin."),
            ),
        ),
        Numeric(
            f"The guide's {fmt.usdt(GUIDE.notional)} long, held 7 days (21 payments) at a "
            f"funding rate of {fmt.percent(0.001, 3)} per 8 hours, price at entry: how much "
            "funding does it pay (USDT)?",
            answer=paid,
            tolerance=0.5,
            unit="USDT",
            hint="Each payment is notional × rate.",
            explanation=f"21 × {fmt.usdt(week['isolated'].payment_usdt)} = {fmt.usdt(paid)}.",
            mistakes=(
                Mistake(paid / 21, "That is one payment; a week has 21."),
                Mistake(fees.total_usdt, "That is the round trip's fees, not the funding."),
            ),
        ),
        Choice(
            "The same position in cross and in isolated: which pays more funding?",
            ("isolated", "cross", "the same in both"),
            correct=2,
            explanation=(
                "Funding is paid on the notional. The mode decides only what it is taken from: "
                "the isolated margin, or the cross wallet."
            ),
        ),
    ]


def _stop_losses() -> list[Question]:
    stop = 57_000
    loss = GUIDE.quantity * (GUIDE.entry_price - stop)
    return [
        Numeric(
            "Guide position (1/3 BTC long from 60,000), stop at 57,000 filled exactly: "
            "loss in USDT?",
            answer=loss,
            tolerance=1,
            unit="USDT",
            hint="quantity × (entry − stop)",
            explanation="1/3 × 3,000, known before the trade.",
            mistakes=(
                Mistake(
                    GUIDE.entry_price - stop,
                    "That is the price move per BTC; the position is 1/3 BTC.",
                ),
                Mistake(GUIDE.margin, "That is the whole margin: the loss at liquidation."),
            ),
        ),
        Choice(
            "Which mode does the guide recommend to beginners?",
            ("Cross", "Isolated"),
            correct=1,
            explanation="Isolated: the risk per trade is transparent and capped at the margin.",
        ),
        Choice(
            "Where must the stop-loss of a long be?",
            ("below the liquidation price", "between the liquidation price and entry"),
            correct=1,
            explanation="Below the liquidation price, liquidation comes first: no stop fires.",
        ),
    ]


STOP_57K = 57_000.0  # the guide's long with a stop 5 % below entry (lessons 11-13)


def _what_a_stop_costs() -> list[Question]:
    gap = {
        m: replay(
            guide_account(m),
            {"BTCUSDT": [GUIDE.entry_price, 52_800.0]},
            stops={"BTCUSDT": STOP_57K},
        )
        for m in ("cross", "isolated")
    }
    lost = {m: GUIDE.wallet_balance - run.final_equity_usdt for m, run in gap.items()}
    planned = GUIDE.quantity * (GUIDE.entry_price - STOP_57K)
    dip = teaching_path("v_dip_recovery", depth_rate=0.07)
    dipped = [
        GUIDE.wallet_balance
        - replay(guide_account("isolated"), {"BTCUSDT": dip}, stops=stops).final_equity_usdt
        for stops in (None, {"BTCUSDT": STOP_57K})
    ]
    locked = dipped[1] > 0 and abs(dipped[0]) < 0.01
    capped = "isolated" if lost["isolated"] < lost["cross"] else "cross"
    return [
        Numeric(
            "The guide's long in cross, stop at 57,000. The price gaps from 60,000 to 52,800 "
            "in one step. What does the stop cost (USDT)?",
            answer=lost["cross"],
            tolerance=1,
            unit="USDT",
            hint="A stop-market order fills where the market is.",
            explanation=(
                f"It fills at 52,800: {GUIDE.quantity:.4f} × "
                f"{fmt.price(GUIDE.entry_price - 52_800)} = {fmt.usdt(lost['cross'])}, "
                f"not the {fmt.usdt(planned)} planned."
            ),
            mistakes=(
                Mistake(
                    planned, "That is the loss planned at the stop price; it fills at the gap."
                ),
                Mistake(lost["isolated"], "That is the isolated loss, capped at its margin."),
            ),
        ),
        Choice(
            "The price dips 7 % and comes back to entry. What does a stop at 57,000 do?",
            (
                "nothing: the price comes back",
                "it sells near the dip's low and the loss stays, though the price comes back",
            ),
            correct=1 if locked else 0,
            explanation=(
                f"It fires on the way down and locks in {fmt.usdt(dipped[1])}; without it the "
                f"position ends with {fmt.usdt(dipped[0])} lost."
            ),
        ),
        Choice(
            "In a gap through the stop, which mode caps what the position can cost?",
            ("Cross", "Isolated"),
            correct=1 if capped == "isolated" else 0,
            explanation="Isolated: it never costs more than its margin; a stop does not cap a gap.",
        ),
    ]


def _stop_triggers_and_odds() -> list[Question]:
    marks = teaching_path("last_price_wick", depth_rate=0.08, price="mark")
    lasts = teaching_path("last_price_wick", depth_rate=0.08, price="last")
    runs = {
        trigger: replay(
            guide_account("isolated"),
            {"BTCUSDT": marks},
            last_prices={"BTCUSDT": lasts},
            stops={"BTCUSDT": STOP_57K},
            stop_trigger=trigger,
        )
        for trigger in ("last", "mark")
    }
    mark_fires = any(e.kind == "stop" for e in runs["mark"].events)
    fill = next(e.price for e in runs["last"].events if e.kind == "stop")
    fair = PathModel(n_paths=2_000, n_steps=200, volatility=0.8, seed=8)
    paths = {"BTCUSDT": fair.paths(GUIDE.entry_price)}
    equity = [
        simulate_paths(guide_account("isolated"), paths, stops=stops).final_equity_usdt
        for stops in (None, {"BTCUSDT": STOP_57K})
    ]
    diff = equity[0] - equity[1]  # loss with the stop − loss without, per path
    about_same = abs(diff.mean()) <= 2 * diff.std(ddof=1) / np.sqrt(diff.size)
    return [
        Choice(
            "The last price wicks through your stop; the mark price stays above it. Your stop "
            "watches the mark. What happens?",
            ("the stop fires at the wick", "nothing: the stop and liquidation follow the mark"),
            correct=0 if mark_fires else 1,
            explanation="A stop watching the mark ignores a wick of the last price alone.",
        ),
        Numeric(
            f"The same wick takes the last price down to {fmt.price(lasts.min())}. A stop at "
            "57,000 watching the last price: where does it fill (USDT)?",
            answer=fill,
            tolerance=1,
            unit="USDT",
            hint="Its market order fills at the last price of the step that triggers it.",
            explanation=f"At the wick, {fmt.price(fill)}, not at the stop price.",
            mistakes=(Mistake(STOP_57K, "That is the stop price: the trigger, not the fill."),),
        ),
        Choice(
            "On random paths with no drift (a fair bet), what does a stop do to the expected loss?",
            ("lowers it clearly", "leaves it about the same, but makes small losses frequent"),
            correct=1 if about_same else 0,
            explanation=(
                "On a fair bet no exit rule changes the average; the stop trades rare full "
                "losses for frequent smaller ones."
            ),
        ),
    ]


PLAN_KEYS = ("mode", "leverage", "margin", "stop_price")


def _capstone(plan: Mapping[str, object]) -> list[Question]:
    missing = [key for key in PLAN_KEYS if key not in plan]
    if missing:
        raise ValueError(f"plan must name {', '.join(PLAN_KEYS)}; missing {', '.join(missing)}")
    mode, leverage = str(plan["mode"]), float(plan["leverage"])
    margin, stop = float(plan["margin"]), float(plan["stop_price"])
    account = Account(wallet_balance=GUIDE.wallet_balance).set_margin_mode("BTCUSDT", mode)
    account = account.open(
        "BTCUSDT", side="long", price=GUIDE.entry_price, leverage=leverage, margin=margin
    )
    position = account.position("BTCUSDT")
    lp = account.liquidation_price("BTCUSDT")
    described = f"your plan ({mode}, {leverage:g}x, {margin:,.0f} USDT margin, stop at {stop:,.0f})"
    backing = account.levels("BTCUSDT").backing_usdt
    if math.isfinite(lp):
        first: Question = Numeric(
            f"For {described}, where is the liquidation price (USDT)?",
            answer=lp,
            tolerance=5,
            unit="USDT",
            hint="Run the plan cell: it prints the engine's number.",
            explanation=f"{fmt.price(lp)}: {fmt.percent(1 - lp / GUIDE.entry_price, 1)} below.",
            mistakes=_price_mistakes(account),
        )
    else:
        first = Choice(
            f"{described[0].upper()}{described[1:]} has no liquidation price. Why?",
            (
                "the stop closes it before any liquidation",
                "the balance behind it covers a fall of BTC to zero",
                "cross positions are never liquidated",
            ),
            correct=1,
            explanation=(
                f"A fall to zero costs {fmt.usdt(position.entry_notional)}, and "
                f"{fmt.usdt(backing)} stands behind the position: no price liquidates it."
            ),
        )
    loss_at_stop = position.quantity * (position.entry_price - stop)
    return [
        first,
        Numeric(
            f"For {described}, what does the stop cost if it fills exactly (USDT)?",
            answer=loss_at_stop,
            tolerance=1,
            unit="USDT",
            hint="quantity × (entry − stop); the quantity is margin × leverage / entry.",
            explanation=(
                f"{position.quantity:.4f} BTC × {fmt.price(position.entry_price - stop)} = "
                f"{fmt.usdt(loss_at_stop)}."
            ),
            mistakes=(
                Mistake(
                    position.entry_price - stop,
                    "That is the price move per BTC; multiply by the quantity.",
                ),
            ),
        ),
        Choice(
            "Which should trigger first as the price falls: your stop or liquidation?",
            ("The stop", "Liquidation"),
            correct=0,
            explanation="Liquidation must never be the exit strategy.",
        ),
    ]


LESSON_QUESTIONS: dict[str, Callable[..., list[Question]]] = {
    "00-start-here": _start_here,
    "01-isolated-margin": _isolated_margin,
    "02-cross-margin": _cross_margin,
    "03-liquidation-threshold": _liquidation_threshold,
    "04-loss-at-liquidation": _loss_at_liquidation,
    "05-several-positions": _several_positions,
    "06-adding-margin": _adding_margin,
    "07-switching-modes": _switching_modes,
    "08-when-to-use-cross": _when_to_use_cross,
    "09-when-to-use-isolated": _when_to_use_isolated,
    "10-fees-and-funding": _fees_and_funding,
    "11-stop-losses": _stop_losses,
    "12-what-a-stop-costs": _what_a_stop_costs,
    "13-stop-triggers-and-odds": _stop_triggers_and_odds,
    "14-capstone": _capstone,
}
"""Lesson name -> its questions; lesson 09 takes ``risk=``, the capstone ``plan=``."""


def questions(lesson: str, **context: object) -> list[Question]:
    """The self-check questions of ``lesson`` (a lesson file's name without ``.ipynb``)."""
    if lesson not in LESSON_QUESTIONS:
        raise ValueError(f"lesson must be one of {', '.join(LESSON_QUESTIONS)}, got {lesson!r}")
    return LESSON_QUESTIONS[lesson](**context)


def self_check(lesson: str, **context: object) -> Quiz:
    """The self-check of ``lesson`` as a quiz widget (what a lesson's last cell shows)."""
    return Quiz(questions(lesson, **context))
