"""The source of the lesson notebooks (written out by ``tools/nbbuild.py``).

Each lesson is a list of cells: ("md", markdown) or ("code", python[, tags]).
Cells tagged "check" move a widget's controls and assert that its figures and
summary agree with the engine (nbval runs them; Voila hides code anyway).
"""

DISCLAIMER = "*marginlab is educational, not financial advice.*"

SETUP = """
from marginlab import Account, bankruptcy_price, charts
from marginlab.scenarios import GUIDE, guide_account
from marginlab.widgets import catalog, show
from marginlab.widgets.quiz import Choice, Numeric, Quiz
"""


def header(number: str, title: str, objectives: list[str], prev: str | None, nxt: str | None):
    links = []
    if prev:
        links.append(f"← previous: [{prev}]({prev}.ipynb)")
    if nxt:
        links.append(f"next: [{nxt}]({nxt}.ipynb) →")
    goals = "\n".join(f"- {o}" for o in objectives)
    return (
        "md",
        f"# {number} · {title}\n\n**In this lesson you will:**\n\n{goals}\n\n"
        + " · ".join(links)
        + f"\n\n{DISCLAIMER}",
    )


def footer(takeaway: str, prev: str | None, nxt: str | None):
    links = []
    if prev:
        links.append(f"← [{prev}]({prev}.ipynb)")
    if nxt:
        links.append(f"[{nxt}]({nxt}.ipynb) →")
    return ("md", f"## Takeaway\n\n{takeaway}\n\n" + " · ".join(links))


NAMES = [
    "00-start-here",
    "01-isolated-margin",
    "02-cross-margin",
    "03-liquidation-threshold",
    "04-loss-at-liquidation",
    "05-several-positions",
    "06-adding-margin",
    "07-switching-modes",
    "08-when-to-use-which",
    "09-stop-losses",
    "10-capstone",
]


def neighbours(name: str) -> tuple[str | None, str | None]:
    i = NAMES.index(name)
    return (NAMES[i - 1] if i else None, NAMES[i + 1] if i + 1 < len(NAMES) else None)


LESSONS: dict[str, list] = {}

# --------------------------------------------------------------------------- 00
name = "00-start-here"
prev, nxt = neighbours(name)
LESSONS[name] = [
    header(
        "00",
        "Start here: what margin is, and how to use these lessons",
        [
            "say what **margin**, **leverage**, **notional** and **liquidation** mean",
            "know the one choice this course is about: **Cross** or **Isolated** margin",
            "move a slider and read a live chart and its one-line summary",
            "answer a self-check and get instant feedback",
        ],
        prev,
        nxt,
    ),
    (
        "md",
        """
## Futures, margin and leverage in one paragraph

A **perpetual futures** position lets you gain or lose from a price move without owning
the coin. You put up **margin** (USDT) and choose a **leverage**: the position's size in
USDT, its **notional**, is margin × leverage. With 2,000 USDT at 10x you control a
20,000 USDT position, here 1/3 BTC at 60,000. A 1 % move in BTC is a 1 % move of the
notional: 200 USDT, or 10 % of your margin.

If the price moves against you far enough, the exchange closes the position for you:
**liquidation**. It happens when the money standing behind the position falls to the
**maintenance margin**, a small fraction of the notional (the **maintenance margin rate**,
`maintenance_rate`, 0.40 % for a small BTC position).

Before opening a position you choose, per trading pair, how margin stands behind it:

- **Isolated**: only the margin you assign to that position.
- **Cross**: the whole available balance of the account, shared by every cross position.

That choice decides *where* the position is liquidated and *how much* you lose when it
is. The rest of the course shows both, with numbers you control.
""",
    ),
    ("md", "## Setup\n\nRun this cell first (in JupyterLab: select it and press **Shift+Enter**)."),
    ("code", SETUP),
    (
        "md",
        """
## The numbers come from the engine

Every number in these lessons is computed by marginlab's engine, the same arithmetic an
exchange publishes for its USDT-margined contracts. Here is the guide's example account:
10,000 USDT, of which 2,000 USDT back a BTC long at 10x from 60,000.
""",
    ),
    (
        "code",
        """
isolated = guide_account("isolated")
position = isolated.position("BTCUSDT")
print(f"notional:        {position.entry_notional:>10,.2f} USDT")
print(f"quantity:        {position.quantity:>10.6f} BTC")
print(f"initial margin:  {position.initial_margin:>10,.2f} USDT")
print(f"liquidation at:  {isolated.liquidation_price('BTCUSDT'):>10,.2f} USDT")
""",
    ),
    (
        "md",
        """
## How a widget works

Each lesson has one widget: sliders on the left, a chart, and a **summary** sentence
under the chart that states the key numbers (it is also what a screen reader reads).
Drag a slider, or click it and use the arrow keys. If you type a value the engine
refuses, the widget says why beside the control and keeps the last good state.

**Try it:** drag *leverage* and watch the isolated liquidation price move toward entry.
""",
    ),
    ("code", 'widget = catalog()["liquidation_threshold"]()\nwidget'),
    (
        "md",
        """
## Self-checks

Each lesson ends with questions. Type or pick an answer and press **Check**: the answer is
computed by the engine, so it is always the number the charts show.
""",
    ),
    (
        "code",
        """
Quiz([
    Numeric(
        "With 2,000 USDT of margin at 10x, what is the position's notional (USDT)?",
        answer=position.entry_notional,
        tolerance=1,
        unit="USDT",
        hint="notional = margin × leverage",
        explanation="2,000 × 10 = 20,000 USDT, which buys 1/3 BTC at 60,000.",
    ),
    Choice(
        "In which mode does only the margin you assign stand behind a position?",
        ("Cross", "Isolated"),
        correct=1,
        explanation="Isolated: each position has its own margin; cross shares the whole balance.",
    ),
])
""",
    ),
    footer(
        "Margin is the money behind a position; leverage sets its size. Cross or Isolated "
        "decides which money stands behind it, and so where it liquidates and what you lose.",
        prev,
        nxt,
    ),
]

# --------------------------------------------------------------------------- 01
name = "01-isolated-margin"
prev, nxt = neighbours(name)
LESSONS[name] = [
    header(
        "01",
        "Isolated margin: each position is independent",
        [
            "compute an isolated position's **liquidation price** from its assigned margin",
            "see that an isolated liquidation loses only the **assigned margin**",
            "tell the **liquidation price** from the **bankruptcy price**",
        ],
        prev,
        nxt,
    ),
    ("code", SETUP),
    (
        "md",
        """
## The claim

In **isolated** mode you assign a specific amount of margin to each position. If that
position is liquidated you lose only the assigned margin; the rest of the account is safe.
Core feature: **risk isolation**.

The guide's example: a 10,000 USDT account; 2,000 USDT assigned to one BTC long at 10x
(20,000 USDT notional). If BTC falls far enough the position is liquidated: the trader
loses the 2,000 and keeps 8,000.
""",
    ),
    (
        "code",
        """
account = guide_account("isolated")        # 10,000 USDT; 2,000 isolated on BTC long 10x at 60,000
levels = account.levels("BTCUSDT")         # the position's levels, from the engine
lp, bp = levels.liquidation_price, levels.bankruptcy_price
outcome = account.liquidate({"BTCUSDT": lp * (1 - 1e-9)})   # the mark touches the liquidation price
print(f"backing the position:       {levels.backing_usdt:,.2f} USDT (its isolated margin)")
print(f"cross wallet (not at risk): {account.cross_wallet_balance:,.2f} USDT")
print(f"liquidation price:          {lp:,.2f} USDT ({lp / GUIDE.entry_price - 1:.2%} from entry)")
print(f"bankruptcy price:           {bp:,.2f} USDT")
print(f"lost at liquidation:        {outcome.loss_usdt:,.2f} USDT; kept {outcome.kept_usdt:,.2f} USDT")
""",
    ),
    (
        "md",
        """
### Where does 54,216.87 come from?

Liquidation happens when the **margin balance** (the 2,000 plus the unrealized PnL) falls
to the **maintenance margin** (`notional × maintenance_rate`). For a long of quantity Q:

`2,000 + Q × (P − 60,000) = Q × P × 0.004`  →  `P = (60,000 − 2,000/Q) / (1 − 0.004)` = **54,216.87**

The **bankruptcy price**, 54,000, is where the 2,000 would be used up completely. The
exchange liquidates a little before it, at the liquidation price; what is left (72.29 USDT
here) goes to the exchange's insurance fund. Either way the trader's loss is the 2,000.
""",
    ),
    (
        "code",
        """iso_levels, cross_levels = (guide_account(m).levels("BTCUSDT") for m in ("isolated", "cross"))
show(charts.price_ladder_figure(
    entry_price=iso_levels.entry_price,
    mark_price=iso_levels.mark_price,
    isolated_liquidation_price=iso_levels.liquidation_price,
    cross_liquidation_price=cross_levels.liquidation_price,
    isolated_bankruptcy_price=iso_levels.bankruptcy_price,
    cross_bankruptcy_price=cross_levels.bankruptcy_price,
))""",
        ["static"],
    ),
    (
        "md",
        """
### What to notice

- The liquidation price depends on the 2,000 only: the other 8,000 never enter the formula.
- 10x leverage puts liquidation about **9.6 % below entry**.
- The loss is capped at the assigned margin, whatever the price does afterwards.
""",
    ),
    (
        "md",
        """
## Predict, then explore

**Predict:** if you assign 3,000 instead of 2,000 at the same notional (lower leverage),
does the liquidation price move up or down, and by roughly how much? Write your guess,
then move the *margin* slider in the widget.
""",
    ),
    ("code", 'widget = catalog()["liquidation_threshold"]()\nwidget'),
    (
        "code",
        """
# Self-test: the widget shows the engine's numbers (runs in the test suite too).
assert abs(widget.isolated_liquidation_price - lp) < 0.01, widget.summary
assert "54,216.87" in widget.summary
""",
        ["check"],
    ),
    (
        "code",
        """
Quiz([
    Numeric(
        "The guide's isolated long is liquidated. How much of the 10,000 USDT account is left?",
        answer=outcome.kept_usdt,
        tolerance=1,
        unit="USDT",
        hint="Only the assigned margin is at risk.",
        explanation="The 2,000 assigned margin is lost; the other 8,000 were never at risk.",
    ),
    Numeric(
        "At what BTC price (USDT) is that isolated long liquidated?",
        answer=lp,
        tolerance=5,
        unit="USDT",
        hint="Solve 2,000 + Q(P − 60,000) = 0.004·Q·P with Q = 1/3.",
        explanation=f"{lp:,.2f} USDT: about 9.6 % below entry at 10x.",
    ),
    Choice(
        "Which price comes first as BTC falls?",
        ("the bankruptcy price", "the liquidation price"),
        correct=1,
        explanation="Liquidation comes first, while the maintenance margin is still left.",
    ),
])
""",
    ),
    footer(
        "Isolated margin caps the loss of a position at the margin you assigned to it: "
        "risk isolation. The price of that safety is a liquidation price close to entry.",
        prev,
        nxt,
    ),
]

# --------------------------------------------------------------------------- 02
name = "02-cross-margin"
prev, nxt = neighbours(name)
LESSONS[name] = [
    header(
        "02",
        "Cross margin: one shared pool",
        [
            "see how the whole **cross wallet balance** stands behind a cross position",
            "compute the cross liquidation price of the guide's position",
            "see the price of that safety: the whole balance can be lost",
        ],
        prev,
        nxt,
    ),
    ("code", SETUP),
    (
        "md",
        """
## The claim

In **cross** mode the whole available balance backs every cross position. Liquidation is
harder to trigger, because a bigger pool stands behind the position, but when it happens
the whole futures balance can be lost, and one losing position can drag down the others.
Core feature: **harder to liquidate, larger potential loss**. Cross is the default mode on
the exchanges.
""",
    ),
    (
        "code",
        """
cross = guide_account("cross")             # the same BTC long, but in cross mode
lp_cross = cross.liquidation_price("BTCUSDT")
outcome = cross.liquidate({"BTCUSDT": lp_cross * (1 - 1e-9)})
print(f"behind the position: {cross.levels('BTCUSDT').backing_usdt:,.2f} USDT (the cross wallet)")
print(f"liquidation price: {lp_cross:,.2f} USDT ({lp_cross / GUIDE.entry_price - 1:.2%} from entry)")
print(f"lost at liquidation: {outcome.loss_usdt:,.2f} USDT; kept {outcome.kept_usdt:,.2f} USDT")
""",
    ),
    (
        "md",
        """
### What to notice

- The same 20,000 USDT position now has all 10,000 USDT behind it, so BTC must fall about
  **50 %** (to 30,120.48) before liquidation, instead of about 9.6 %.
- When it does happen, the loss is the **whole** 10,000 USDT (the price move has taken
  9,959.84; the last 40.16 of maintenance margin goes at liquidation).
- Leverage did not change the liquidation price here: in cross mode the balance, not the
  margin you picked, stands behind the position. Leverage only sets how much balance is
  *locked* as initial margin.
""",
    ),
    (
        "code",
        """losses = {}
for mode in ("isolated", "cross"):
    acct = guide_account(mode)
    losses[mode] = acct.liquidate({"BTCUSDT": acct.liquidation_price("BTCUSDT") * (1 - 1e-9)})
show(charts.loss_at_liquidation_figure(
    wallet_balance_usdt=GUIDE.wallet_balance,
    isolated_loss_usdt=losses["isolated"].loss_usdt,
    cross_loss_usdt=losses["cross"].loss_usdt,
))""",
        ["static"],
    ),
    (
        "md",
        """
## Predict, then explore

**Predict:** you move 5,000 USDT more into the futures wallet. Does the cross liquidation
price move closer to entry or further away? Does the isolated one move at all? Try the
*balance* slider.
""",
    ),
    ("code", 'widget = catalog()["liquidation_threshold"]()\nwidget'),
    (
        "code",
        """
assert abs(widget.cross_liquidation_price - lp_cross) < 0.01, widget.summary
assert "30,120.48" in widget.summary
""",
        ["check"],
    ),
    (
        "code",
        """
Quiz([
    Numeric(
        "At what BTC price (USDT) is the guide's position liquidated in cross mode?",
        answer=lp_cross,
        tolerance=5,
        unit="USDT",
        hint="Now all 10,000 USDT stand behind the 1/3 BTC.",
        explanation=f"{lp_cross:,.2f} USDT: about 50 % below entry.",
    ),
    Numeric(
        "How much of the 10,000 USDT is left after that cross liquidation?",
        answer=outcome.kept_usdt,
        tolerance=1,
        unit="USDT",
        hint="The whole cross wallet backs the position.",
        explanation="Nothing: the cross wallet balance is lost.",
    ),
])
""",
    ),
    footer(
        "Cross margin puts the whole balance behind every cross position: liquidation is "
        "further away, and when it comes it can take everything.",
        prev,
        nxt,
    ),
]

# --------------------------------------------------------------------------- 03
name = "03-liquidation-threshold"
prev, nxt = neighbours(name)
LESSONS[name] = [
    header(
        "03",
        "Comparison 1: the liquidation threshold",
        [
            "compare where the same position liquidates in cross and in isolated mode",
            "see how **leverage** moves the isolated liquidation price toward entry",
            "find the case where cross is *closer* to liquidation than isolated",
        ],
        prev,
        nxt,
    ),
    ("code", SETUP),
    (
        "md",
        """
## The claim

| | Cross | Isolated |
|---|---|---|
| Liquidation threshold | further from entry (safer from liquidation) | closer (easier to trigger) |

Cross is further away exactly when the balance behind it (the cross wallet, minus the
other cross positions' maintenance margin, plus their unrealized PnL) is larger than the
isolated margin.
""",
    ),
    (
        "code",
        """
for leverage in (5, 10, 20, 50, 100):
    acct = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", "isolated")
    acct = acct.open("BTCUSDT", side="long", price=60_000, leverage=leverage, margin=2_000)
    lp = acct.liquidation_price("BTCUSDT")
    print(f"{leverage:>4}x isolated: liquidation at {lp:>10,.2f} ({lp / 60_000 - 1:7.2%})")
""",
    ),
    (
        "code",
        """iso_levels, cross_levels = (guide_account(m).levels("BTCUSDT") for m in ("isolated", "cross"))
show(charts.price_ladder_figure(
    entry_price=iso_levels.entry_price,
    mark_price=iso_levels.mark_price,
    isolated_liquidation_price=iso_levels.liquidation_price,
    cross_liquidation_price=cross_levels.liquidation_price,
    isolated_bankruptcy_price=iso_levels.bankruptcy_price,
    cross_bankruptcy_price=cross_levels.bankruptcy_price,
))""",
        ["static"],
    ),
    (
        "md",
        """
### What to notice

- Isolated: doubling leverage roughly halves the distance to liquidation (10x ≈ 9.6 %,
  20x ≈ 4.6 %, 100x ≈ 0.6 %). More leverage never moves it away from entry.
- Cross: the balance stands behind the position, so the distance depends on the balance,
  not on the leverage you picked.

### When the claim stops holding

A cross position shares its pool with the other cross positions. If another cross position
is losing, its loss eats the pool:
""",
    ),
    (
        "code",
        """
from marginlab.scenarios.guide import NEIGHBOUR_LOSING_MARKS, losing_neighbour_account

crowded = losing_neighbour_account("cross")   # + ETH long 10 @ 3,000 in cross
lp_crowded = crowded.liquidation_price("BTCUSDT", NEIGHBOUR_LOSING_MARKS)   # ETH marked at 2,100
lp_isolated = guide_account("isolated").liquidation_price("BTCUSDT")
print(f"cross, ETH neighbour down 9,000: {lp_crowded:,.2f}")
print(f"isolated:                        {lp_isolated:,.2f}")
""",
    ),
    (
        "md",
        """
With the neighbour 9,000 USDT under water, the cross BTC position liquidates at
**57,481.93**: *closer* to entry than the isolated one (54,216.87).

## Predict, then explore

**Predict:** at what leverage does the isolated liquidation price come within 5 % of entry?
Check with the *leverage* slider.
""",
    ),
    ("code", 'widget = catalog()["liquidation_threshold"]()\nwidget'),
    (
        "code",
        """
# A probe: an undisplayed copy of the widget, moved and checked against the engine.
probe = catalog()["liquidation_threshold"]()
probe.controls["leverage"].value = 20
expected = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", "isolated").open(
    "BTCUSDT", side="long", price=60_000, leverage=20, margin=2_000).liquidation_price("BTCUSDT")
assert abs(probe.isolated_liquidation_price - expected) < 0.01, probe.summary
""",
        ["check"],
    ),
    (
        "code",
        """
iso20 = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", "isolated").open(
    "BTCUSDT", side="long", price=60_000, leverage=20, margin=2_000)
lp20 = iso20.liquidation_price("BTCUSDT")
Quiz([
    Numeric(
        "Isolated BTC long at 20x from 60,000: how far below entry is liquidation (in %)?",
        answer=100 * (1 - lp20 / 60_000),
        tolerance=0.05,
        unit="%",
        hint="Roughly 1/leverage, a little less because of the maintenance margin.",
        explanation=f"{1 - lp20 / 60_000:.2%}: about half the 10x distance.",
    ),
    Choice(
        "A cross position's other cross positions are losing heavily. Its liquidation price…",
        ("moves away from entry", "moves toward entry", "does not change"),
        correct=1,
        explanation="Their losses eat the shared pool, so less stands behind this position.",
    ),
])
""",
    ),
    footer(
        "Cross usually liquidates much further from entry than isolated; isolated moves "
        "closer with every step of leverage. But a cross position is only as safe as the "
        "pool it shares.",
        prev,
        nxt,
    ),
]

# --------------------------------------------------------------------------- 04
name = "04-loss-at-liquidation"
prev, nxt = neighbours(name)
LESSONS[name] = [
    header(
        "04",
        "Comparison 2: the loss at liquidation",
        [
            "drive the price through liquidation in each mode",
            "see that isolated loses only the assigned margin and cross can lose everything",
            "weigh a far-away liquidation against a large loss",
        ],
        prev,
        nxt,
    ),
    ("code", SETUP),
    (
        "md",
        """
## The claim

| | Cross | Isolated |
|---|---|---|
| Loss at liquidation | potentially the entire account | only the assigned margin |
""",
    ),
    (
        "code",
        """
for mode in ("isolated", "cross"):
    acct = guide_account(mode)
    lp = acct.liquidation_price("BTCUSDT")
    out = acct.liquidate({"BTCUSDT": lp * (1 - 1e-9)})
    print(f"{mode:>8}: liquidated at {lp:,.2f}; lost {out.loss_usdt:,.2f}, kept {out.kept_usdt:,.2f}")
""",
    ),
    (
        "code",
        """losses = {}
for mode in ("isolated", "cross"):
    acct = guide_account(mode)
    losses[mode] = acct.liquidate({"BTCUSDT": acct.liquidation_price("BTCUSDT") * (1 - 1e-9)})
show(charts.loss_at_liquidation_figure(
    wallet_balance_usdt=GUIDE.wallet_balance,
    isolated_loss_usdt=losses["isolated"].loss_usdt,
    cross_loss_usdt=losses["cross"].loss_usdt,
))""",
        ["static"],
    ),
    (
        "md",
        """
### What to notice

- Isolated liquidates early (54,216.87) but the loss stops at 2,000.
- Cross survives down to 30,120.48, but at that point the whole 10,000 is gone.
- "Safer from liquidation" and "smaller loss" are different things. Which matters more
  depends on whether you would have exited before liquidation anyway.

## Predict, then explore

**Predict:** drag the price slider down from 60,000. At 50,000, which mode has already
been liquidated, and what is each account worth?
""",
    ),
    ("code", 'widget = catalog()["loss_at_liquidation"]()\nwidget'),
    (
        "code",
        """
# A probe: an undisplayed copy of the widget, moved and checked against the engine.
probe = catalog()["loss_at_liquidation"]()
probe.controls["price"].value = 50_000
iso = guide_account("isolated").liquidate({"BTCUSDT": 50_000})
assert iso.happened and abs(probe.kept["isolated"] - iso.kept_usdt) < 0.01, probe.summary
cross_state = guide_account("cross").state({"BTCUSDT": 50_000})
assert abs(probe.kept["cross"] - cross_state.margin_balance) < 0.01, probe.summary
""",
        ["check"],
    ),
    (
        "code",
        """
at50 = guide_account("cross").state({"BTCUSDT": 50_000})
Quiz([
    Numeric(
        "BTC at 50,000: what is the cross account's margin balance (USDT)?",
        answer=at50.margin_balance,
        tolerance=1,
        unit="USDT",
        hint="10,000 plus the unrealized PnL of 1/3 BTC from 60,000 to 50,000.",
        explanation=f"{at50.margin_balance:,.2f} USDT: not liquidated, but 3,333.33 down.",
    ),
    Choice(
        "Which mode can lose the entire account in one liquidation?",
        ("Isolated", "Cross"),
        correct=1,
        explanation="Cross: the whole cross wallet balance stands behind the position.",
    ),
])
""",
    ),
    footer(
        "Isolated caps the loss at the assigned margin; cross defers liquidation but can "
        "take the whole account when it comes.",
        prev,
        nxt,
    ),
]

# --------------------------------------------------------------------------- 05
name = "05-several-positions"
prev, nxt = neighbours(name)
LESSONS[name] = [
    header(
        "05",
        "Comparison 3: several positions — buffer and contagion",
        [
            "see a profit on one cross position buffer a loss on another",
            "see a loss on one cross position drag another toward liquidation",
            "read a two-symbol map of the cross margin ratio",
        ],
        prev,
        nxt,
    ),
    ("code", SETUP),
    (
        "md",
        """
## The claim

| | Cross | Isolated |
|---|---|---|
| Several positions | profit on one buffers losses on another | fully independent |

The account: 10,000 USDT, a BTC long (2,000 at 10x from 60,000) and an ETH short
(1,000 at 10x from 3,000). When BTC and ETH fall together, the short gains while the long
loses: in cross mode the gain stands behind the long.
""",
    ),
    (
        "code",
        """
from marginlab.scenarios import two_positions_account

for mode in ("isolated", "cross"):
    acct = two_positions_account(mode)
    for eth in (3_000, 2_500, 3_500):
        lp = acct.liquidation_price("BTCUSDT", {"ETHUSDT": eth})
        print(f"{mode:>8}, ETH at {eth:,}: BTC liquidates at {lp:,.2f}")
""",
    ),
    (
        "md",
        """
### What to notice

- Isolated: the BTC liquidation price is the same whatever ETH does: **fully independent**.
- Cross: when ETH falls (the short gains), BTC's liquidation price moves further away: the
  **buffer**. When ETH rises (the short loses), it moves closer: **contagion**.
- On the map, the coloured boundary is where the cross account is liquidated as a whole:
  every cross position goes at once.

## Predict, then explore

**Predict:** with BTC at 45,000, how high can ETH go before the cross account is liquidated?
Move the two price sliders and watch the map's marker cross the boundary.
""",
    ),
    ("code", 'widget = catalog()["several_positions"]()\nwidget'),
    (
        "md",
        "A snapshot of the widget's current state (it is what a page rendered without a kernel shows):",
    ),
    ("code", "show(widget.static())", ["static"]),
    (
        "code",
        """
# A probe: an undisplayed copy of the widget, moved and checked against the engine.
probe = catalog()["several_positions"]()
probe.controls["eth_price"].value = 2_500
expected = two_positions_account("cross").liquidation_price("BTCUSDT", {"ETHUSDT": 2_500})
assert abs(probe.cross_liquidation_price - expected) < 0.01, probe.summary
""",
        ["check"],
    ),
    (
        "code",
        """
iso = two_positions_account("isolated")
cross = two_positions_account("cross")
Quiz([
    Numeric(
        "Cross mode, ETH at 2,500: where does the BTC long liquidate (USDT)?",
        answer=cross.liquidation_price("BTCUSDT", {"ETHUSDT": 2_500}),
        tolerance=5,
        unit="USDT",
        hint="The ETH short is up; its profit joins the pool behind BTC.",
        explanation="Further from entry than with ETH at 3,000: the short's gain is a buffer.",
    ),
    Choice(
        "Isolated mode: ETH rises 20 %. The BTC liquidation price…",
        ("moves toward entry", "moves away from entry", "does not change"),
        correct=2,
        explanation="Isolated positions are fully independent.",
    ),
])
""",
    ),
    footer(
        "In cross mode positions share one fate: a winner can carry a loser, and a loser can "
        "sink a winner. Isolated positions never affect each other.",
        prev,
        nxt,
    ),
]

# --------------------------------------------------------------------------- 06
name = "06-adding-margin"
prev, nxt = neighbours(name)
LESSONS[name] = [
    header(
        "06",
        "Comparison 4: flexibility, and adding margin in isolated mode",
        [
            "see cross draw on the available balance automatically",
            "add margin to an isolated position and watch its liquidation price move",
            "see why a top-up in the wrong direction only deepens the loss",
        ],
        prev,
        nxt,
    ),
    ("code", SETUP),
    (
        "md",
        """
## The claim

| | Cross | Isolated |
|---|---|---|
| Flexibility | automatically draws on available balance | needs manual margin top-ups |

When an isolated position nears liquidation you can **add margin**, which pushes its
liquidation price further away. Useful, but risky: if the direction is wrong you only
delay a larger loss.
""",
    ),
    (
        "code",
        """
account = guide_account("isolated")
topped = account.add_margin("BTCUSDT", 1_000)       # move 1,000 from the cross pool
before = account.liquidation_price("BTCUSDT")
after = topped.liquidation_price("BTCUSDT")
print(f"before: {before:,.2f}   after adding 1,000: {after:,.2f}   moved {after - before:,.2f}")
print(f"at risk now: {topped.position('BTCUSDT').isolated_margin:,.2f} USDT")
""",
    ),
    (
        "code",
        """topped_levels, cross_levels = topped.levels("BTCUSDT"), guide_account("cross").levels("BTCUSDT")
show(charts.price_ladder_figure(
    entry_price=topped_levels.entry_price,
    mark_price=topped_levels.mark_price,
    isolated_liquidation_price=topped_levels.liquidation_price,
    cross_liquidation_price=cross_levels.liquidation_price,
    isolated_bankruptcy_price=topped_levels.bankruptcy_price,
    cross_bankruptcy_price=cross_levels.bankruptcy_price,
    title="After adding 1,000 USDT to the isolated position",
))""",
        ["static"],
    ),
    (
        "md",
        """
### What to notice

- +1,000 USDT moved the liquidation price down by 3,012.05 (from 54,216.87 to 51,204.82).
- The amount at risk rose from 2,000 to 3,000. If BTC keeps falling, the top-up is lost too.
- Cross does this on its own: the whole pool is already behind the position, which is why
  cross positions cannot be topped up by hand (a deposit into the wallet moves every cross
  liquidation price at once).

## Predict, then explore

**Predict:** BTC keeps falling to 48,000. Each time the position nears liquidation you add
1,000. How much do you lose in total?
""",
    ),
    ("code", 'widget = catalog()["adding_margin"]()\nwidget'),
    (
        "code",
        """
# A probe: an undisplayed copy of the widget, moved and checked against the engine.
probe = catalog()["adding_margin"]()
probe.add_margin(1_000)
assert abs(probe.isolated_liquidation_price - after) < 0.01, probe.summary
""",
        ["check"],
    ),
    (
        "code",
        """
Quiz([
    Numeric(
        "After adding 1,000 USDT, where is the isolated long liquidated (USDT)?",
        answer=after,
        tolerance=5,
        unit="USDT",
        hint="Now 3,000 stand behind 1/3 BTC.",
        explanation=f"{after:,.2f}: about 3,012 lower than before.",
    ),
    Numeric(
        "BTC then falls to 50,000 and the position is liquidated. How much is lost (USDT)?",
        answer=topped.liquidate({"BTCUSDT": 50_000}).loss_usdt,
        tolerance=1,
        unit="USDT",
        hint="Everything assigned to the position.",
        explanation="3,000: the top-up delayed the liquidation and made it larger.",
    ),
])
""",
    ),
    footer(
        "Adding margin buys distance, not safety: it is a decision to risk more on the same "
        "trade. Decide it before the trade, not while it is losing.",
        prev,
        nxt,
    ),
]

# --------------------------------------------------------------------------- 07
name = "07-switching-modes"
prev, nxt = neighbours(name)
LESSONS[name] = [
    header(
        "07",
        "Switching modes",
        [
            "switch a pair's mode before opening a position",
            "see the switch refused while a position is open, and why",
            "run different pairs in different modes at the same time",
        ],
        prev,
        nxt,
    ),
    ("code", SETUP),
    (
        "md",
        """
## The rule

You may switch a pair's mode before opening a position on it, but not while a position (or
open order) exists on that pair: **close, switch, re-open**. Different pairs can use
different modes at the same time. Cross is the default.
""",
    ),
    (
        "code",
        """
from marginlab import ModeSwitchError

account = Account(wallet_balance=10_000)
print("BTCUSDT starts in:", account.margin_mode("BTCUSDT"))
account = account.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
try:
    account.set_margin_mode("BTCUSDT", "isolated")
except ModeSwitchError as refusal:
    print("refused:", refusal)
account = account.set_margin_mode("ETHUSDT", "isolated")     # another pair: allowed
print("ETHUSDT is now:", account.margin_mode("ETHUSDT"))
""",
    ),
    (
        "md",
        """
### What to notice

- The refusal leaves the account exactly as it was: nothing half-happens.
- The mode belongs to the pair, not to the account: BTC in cross and ETH in isolated is fine.
- To change BTC's mode you must close the position first: the switch cannot rescue a trade.

## Explore: the sandbox

Open and close positions, and try to switch modes. The sandbox enforces the rule and
explains every refusal.
""",
    ),
    ("code", 'widget = catalog()["switching_modes"]()\nwidget'),
    (
        "code",
        """
# A probe: an undisplayed copy of the widget, moved and checked against the engine.
probe = catalog()["switching_modes"]()
probe.open_position()
message = probe.switch_mode("isolated")
assert "cannot switch" in message, message
probe.close_position()
assert "isolated" in probe.switch_mode("isolated")
""",
        ["check"],
    ),
    (
        "code",
        """
Quiz([
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
])
""",
    ),
    footer(
        "Choose the mode before you trade. The exchange will not let a mode switch rescue an "
        "open position.",
        prev,
        nxt,
    ),
]

# --------------------------------------------------------------------------- 08
name = "08-when-to-use-which"
prev, nxt = neighbours(name)
LESSONS[name] = [
    header(
        "08",
        "When to use which: scenarios and risk over many paths",
        [
            'replay the guide\'s "when to use" cases along seeded price paths',
            "measure how often each mode liquidates, and how much it loses when it does",
            "see where each recommendation stops holding",
        ],
        prev,
        nxt,
    ),
    ("code", SETUP),
    (
        "md",
        """
## The claims

**Cross** suits: hedging (offsetting positions share margin); a large account holding small
positions; long-term trend trades that must ride out drawdowns.

**Isolated** suits: beginners; high-leverage short-term trades; several independent
positions; testing a new strategy with limited capital.

A single price path proves little. Here each case is simulated on hundreds of seeded random
price paths (geometric Brownian motion), the same paths in both modes.
""",
    ),
    (
        "code",
        """
from marginlab.scenarios import WHEN_TO_USE, when_to_use

trend = when_to_use("trend_trade_through_drawdown")
print(trend.claim)
trend.compare()[["liquidation_probability", "mean_loss_usdt", "worst_loss_usdt"]].round(3)
""",
    ),
    (
        "md",
        """
### What to notice

- The same trade, the same paths: isolated is liquidated on most paths during the drawdown,
  cross rides it out. But cross's worst loss is not capped by the margin.

## Risk at scale: "harder to liquidate, larger potential loss"

One BTC long with 2,000 USDT of margin in a 10,000 USDT account, over a grid of leverage,
on 2,000 seeded one-month paths:
""",
    ),
    (
        "code",
        """
from marginlab import gbm_paths, risk_summary

paths = gbm_paths(60_000, n_paths=2_000, n_steps=720, volatility=0.6, seed=7)
risk = risk_summary(paths, [5, 10, 20, 50], modes=["cross", "isolated", "isolated_stop"])
risk[["liquidation_probability", "stop_probability", "mean_loss_usdt", "worst_loss_usdt"]].round(3)
""",
    ),
    (
        "md",
        """
- Isolated liquidates more often at every leverage, and never loses more than 2,000.
- Cross liquidates rarely, but its worst loss is the whole account.
- Isolated with a stop-loss exits earlier, before liquidation: small, frequent, planned losses.

## Predict, then explore

**Predict:** in the *hedge* scenario, which mode liquidates more often? Pick it in the
widget, press play, then look at the risk table.
""",
    ),
    ("code", 'widget = catalog()["when_to_use"]()\nwidget'),
    (
        "md",
        "A snapshot of the widget's current state (it is what a page rendered without a kernel shows):",
    ),
    ("code", "show(widget.static())", ["static"]),
    (
        "code",
        """
assert widget.scenario.name in WHEN_TO_USE
first = widget.scenario.compare()
assert set(first.index) == {"cross", "isolated"}
""",
        ["check"],
    ),
    (
        "code",
        """
hedge = when_to_use("hedge").compare()
Quiz([
    Choice(
        "In the hedge scenario (a long and a short that offset), which mode liquidated less often?",
        ("Cross", "Isolated"),
        correct=0 if hedge.loc["cross", "liquidation_probability"]
        < hedge.loc["isolated", "liquidation_probability"] else 1,
        explanation="In cross, the gain on one leg stands behind the loss on the other.",
    ),
    Numeric(
        "At 20x, what fraction of the paths liquidated the isolated position? (0 to 1)",
        answer=float(risk.loc[(20.0, "isolated"), "liquidation_probability"]),
        tolerance=0.01,
        hint="Read the risk table above.",
        explanation="More leverage, closer liquidation, more paths touch it.",
    ),
])
""",
    ),
    footer(
        "Cross is harder to liquidate and can lose more; isolated liquidates more often and "
        "loses at most the margin. Choose by strategy: hedges and large buffers favour cross; "
        "high leverage, independent bets and experiments favour isolated.",
        prev,
        nxt,
    ),
]

# --------------------------------------------------------------------------- 09
name = "09-stop-losses"
prev, nxt = neighbours(name)
LESSONS[name] = [
    header(
        "09",
        "Stop-losses, and the recommendation",
        [
            "replay a position with and without a stop-loss",
            "compare the loss at a stop with the loss at liquidation",
            "state the guide's recommendation and why",
        ],
        prev,
        nxt,
    ),
    ("code", SETUP),
    (
        "md",
        """
## The recommendation

Beginners should start with **Isolated**: the risk is transparent and capped per trade.
With experience, choose by strategy. In either mode use **stop-losses**: liquidation must
never be the exit strategy.
""",
    ),
    (
        "code",
        """
from marginlab import replay, teaching_path

path = teaching_path("steady_decline", start_price=GUIDE.entry_price, n_steps=101)
without = replay(guide_account("isolated"), {"BTCUSDT": path})
with_stop = replay(guide_account("isolated"), {"BTCUSDT": path}, stops={"BTCUSDT": 57_000})
fill = next(e.price for e in with_stop.events if e.kind == "stop")   # where the stop filled
print(f"no stop:      liquidated at step {without.liquidated_at.get('BTCUSDT')}, "
      f"final equity {without.final_equity_usdt:,.2f}")
print(f"stop 57,000:  filled at {fill:,.2f} (the first price at or below the stop), "
      f"final equity {with_stop.final_equity_usdt:,.2f}")
""",
    ),
    (
        "md",
        """
### What to notice

- Without a stop, the steady decline takes the position to liquidation: the 2,000 margin is
  gone.
- A stop at 57,000 (5 % below entry) closes it with a loss of about 1,000 (1/3 BTC × 3,000):
  you chose the loss before the trade. A stop is a trigger, not a price: it fills at the
  first price at or below 57,000 (printed above), so a gap costs more than the stop distance.
- In cross mode, no stop means the loss can grow far beyond 2,000 before liquidation.

## Predict, then explore

**Predict:** where must the stop be for the loss to stay under 500 USDT? Move the *stop*
slider, and switch paths to a flash-crash wick: does the stop still help when the price
gaps through it?
""",
    ),
    ("code", 'widget = catalog()["stop_loss"]()\nwidget'),
    (
        "md",
        "A snapshot of the widget's current state (it is what a page rendered without a kernel shows):",
    ),
    ("code", "show(widget.static())", ["static"]),
    (
        "code",
        """
assert widget.loss_with_stop is None or widget.loss_with_stop <= widget.loss_without_stop + 1e-6
""",
        ["check"],
    ),
    (
        "code",
        """
Quiz([
    Numeric(
        "Guide position (1/3 BTC long from 60,000), stop at 57,000 filled exactly: loss in USDT?",
        answer=GUIDE.quantity * (GUIDE.entry_price - 57_000),
        tolerance=1,
        unit="USDT",
        hint="quantity × (entry − stop)",
        explanation="1/3 × 3,000 = 1,000 USDT, known before the trade.",
    ),
    Choice(
        "Which mode does the guide recommend to beginners?",
        ("Cross", "Isolated"),
        correct=1,
        explanation="Isolated: the risk per trade is transparent and capped at the margin.",
    ),
])
""",
    ),
    footer(
        "Start with isolated, size each trade so its margin is a loss you accept, and set a "
        "stop-loss so that loss is decided by you, not by liquidation.",
        prev,
        nxt,
    ),
]

# --------------------------------------------------------------------------- 10
name = "10-capstone"
prev, nxt = neighbours(name)
LESSONS[name] = [
    header(
        "10",
        "Capstone: plan a trade, then test it",
        [
            "choose a mode, leverage, margin and stop for a trade plan",
            "check the plan against the engine: liquidation price, loss at stop and at liquidation",
            "explain the choice in two sentences",
        ],
        prev,
        nxt,
    ),
    ("code", SETUP),
    (
        "md",
        """
## The challenge

You have a 10,000 USDT account and a view that BTC (now 60,000) will rise over the next
weeks, with a drawdown of up to 8 % on the way. You will not risk more than 1,500 USDT.

1. Pick a margin mode, a leverage and a margin.
2. Check where the position is liquidated, and what a stop at your chosen level would cost.
3. Make sure an 8 % drawdown neither liquidates the position nor hits the stop, and that the
   worst case stays within 1,500 USDT.

Edit the plan below and run the cell; the engine checks it.
""",
    ),
    (
        "code",
        """
plan = {"mode": "isolated", "leverage": 5, "margin": 1_500, "stop_price": 54_000}

account = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", plan["mode"])
account = account.open("BTCUSDT", side="long", price=60_000, leverage=plan["leverage"],
                       margin=plan["margin"])
position = account.position("BTCUSDT")
lp = account.liquidation_price("BTCUSDT")
loss_at_stop = position.quantity * (position.entry_price - plan["stop_price"])
drawdown_low = 60_000 * (1 - 0.08)
checks = {
    "survives an 8 % drawdown": (lp != lp) or lp < drawdown_low,
    "stop below the drawdown": plan["stop_price"] < drawdown_low,
    "stop above liquidation": (lp != lp) or plan["stop_price"] > lp,
    "loss at stop within 1,500": loss_at_stop <= 1_500,
}
print(f"liquidation at {lp:,.2f}; loss at the stop {loss_at_stop:,.2f} USDT")
for name, ok in checks.items():
    print(("✔" if ok else "✘"), name)
""",
    ),
    (
        "md",
        """
## Explore

Use the playground to try your plan beside an alternative (for example the same view in
cross mode at 20x), and the calculator for target prices and maximum size.
""",
    ),
    ("code", 'playground = catalog()["playground"]()\nplayground'),
    ("code", 'calculator = catalog()["calculator"]()\ncalculator'),
    (
        "code",
        """
assert playground.account.wallet_balance > 0
assert isinstance(calculator.result, dict)
""",
        ["check"],
    ),
    (
        "code",
        """
Quiz([
    Numeric(
        "For the example plan (isolated, 5x, 1,500 margin), where is the liquidation price (USDT)?",
        answer=lp,
        tolerance=5,
        unit="USDT",
        hint="Run the plan cell with the example values.",
        explanation=f"{lp:,.2f}, {1 - lp / 60_000:.1%} below entry: the 8 % drawdown does not reach it.",
    ),
    Choice(
        "Which should trigger first as the price falls: your stop or liquidation?",
        ("The stop", "Liquidation"),
        correct=0,
        explanation="Liquidation must never be the exit strategy.",
    ),
])
""",
    ),
    (
        "md",
        """
## Discuss

Explain your plan to a partner in two sentences: which mode, why, and what the worst case
costs. Then swap: can you find a drawdown that breaks their plan?
""",
    ),
    footer(
        "A plan names the mode, the size, the stop and the worst case before the trade. The "
        "engine makes each of those a number you can check.",
        prev,
        None,
    ),
]
