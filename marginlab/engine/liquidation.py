"""Closed-form liquidation and bankruptcy prices (Binance USDⓈ-M formula), vectorized.

Liquidation happens when the margin ratio reaches 100 %, i.e. when the margin balance
standing behind a position equals the maintenance margin at mark price ``P``::

    WB + UPNL1 + s·Q·(P − EP) = TMM1 + Q·P·MMR − cum

Solving for ``P`` gives the published one-way formula (docs/formulas.md §2.1-§2.2)::

    LP = (WB − TMM1 + UPNL1 + cum − s·Q·EP) / (Q·MMR − s·Q)

with ``s`` = +1 long / −1 short, ``Q`` the size in base units, ``EP`` the entry price,
``WB`` the wallet balance behind the position (isolated: the position's margin; cross:
the cross wallet balance), ``TMM1``/``UPNL1`` the maintenance margin and unrealized PnL
of the *other* cross positions (0 when isolated), and ``MMR``/``cum`` the bracket's
maintenance rate and amount. Every function broadcasts its arguments as numpy arrays:
a float comes back for scalar input, an ndarray otherwise, and NaN where no positive
price exists (the position cannot be liquidated by price).
"""

from __future__ import annotations

import numpy as np

from marginlab.engine.errors import MarginError
from marginlab.engine.tiers import TierTable
from marginlab.engine.types import Side

ArrayLike = float | np.ndarray


# A "<U5" string ("long" padded, or "short") is 20 bytes: two 8-byte and one 4-byte integer.
_U5_AS_INTEGERS = np.dtype([("head", "<u8"), ("middle", "<u8"), ("tail", "<u4")])
_LONG_U5 = np.array("long", "<U5").view(_U5_AS_INTEGERS)
_SHORT_U5 = np.array("short", "<U5").view(_U5_AS_INTEGERS)


def _long_short(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the elements exactly "long" and exactly "short" in a string array.

    An array holding both labels is "<U5"; compared as three integers per element it takes
    ~3 ms per million elements instead of ~10 ms for numpy's two string comparisons
    (benchmarks/liquidation.py).
    """
    if text.dtype != np.dtype("<U5") or not text.flags.c_contiguous:
        return text == "long", text == "short"
    fields = text.view(_U5_AS_INTEGERS)

    def equal(label: np.ndarray) -> np.ndarray:
        return (
            (fields["head"] == label["head"])
            & (fields["middle"] == label["middle"])
            & (fields["tail"] == label["tail"])
        )

    return equal(_LONG_U5), equal(_SHORT_U5)


def side_sign(side: object) -> float | np.ndarray:
    """+1.0 for long and −1.0 for short; accepts a string, a Side, ±1, or an array of them.

    >>> side_sign("short"), side_sign(["long", "short"]).tolist()
    (-1.0, [1.0, -1.0])
    """
    if isinstance(side, str):
        return float(Side.parse(side).sign)
    arr = np.asarray(side)
    if arr.dtype.kind in "iuf":
        if not np.all((arr == 1) | (arr == -1)):
            bad = arr[(arr != 1) & (arr != -1)].flat[0]
            raise MarginError(f"side must be 'long'/'short' (or +1/−1), got {bad.item()!r}")
        return arr.astype(float, copy=False) if arr.ndim else float(arr)
    if arr.dtype.kind in "UO":
        if arr.dtype.kind == "O":
            arr = arr.astype(str)
        is_long, is_short = _long_short(arr)
        if np.count_nonzero(is_long) + np.count_nonzero(is_short) != arr.size:
            # rare path: other case or spaces
            flat = arr.ravel()
            text = np.char.strip(np.char.lower(flat))
            is_bad = (text != "long") & (text != "short")
            if np.any(is_bad):
                raise MarginError(f"side must be 'long' or 'short', got {str(flat[is_bad][0])!r}")
            is_long = (text == "long").reshape(arr.shape)
        sign = is_long * 2.0 - 1.0  # +1 long, -1 short
        return sign if sign.ndim else float(sign)
    raise MarginError(f"side must be 'long' or 'short', got {side!r}")


# The checks below cost one or two reductions per argument (no temporary arrays), far
# less than the formula itself; the element-wise search for the offending value runs
# only once a check has failed.


def _floats(value: object, name: str) -> np.ndarray:
    """``value`` as a float array (no copy when it already is one); TypeError otherwise."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iufO":  # strings, booleans, dates ...
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
    try:
        return arr.astype(float, copy=False)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from None


def _array(value: object, name: str) -> np.ndarray:
    arr = _floats(value, name)
    # NaN and ±inf propagate into the sum; a sum that merely overflows finds no culprit.
    if not np.isfinite(np.sum(arr)):
        bad = arr[~np.isfinite(arr)]
        if bad.size:
            raise MarginError(
                f"{name} must be finite (no NaN or infinity), got {float(bad.flat[0])!r}"
            )
    return arr


def _positive(value: object, name: str) -> np.ndarray:
    arr = _floats(value, name)
    # min is NaN when any element is, so it catches NaN, 0 and negatives; max catches +inf.
    if arr.size and not (arr.min() > 0 and arr.max() < np.inf):
        bad = arr[~((arr > 0) & (arr < np.inf))]
        raise MarginError(
            f"{name} must be a finite number greater than 0, got {float(bad.flat[0])!r}"
        )
    return arr


def _rate(value: object, name: str) -> np.ndarray:
    arr = _floats(value, name)
    if arr.size and not (arr.min() >= 0 and arr.max() < 1):
        bad = arr[~((arr >= 0) & (arr < 1))]
        raise MarginError(
            f"{name} must be a fraction in [0, 1) (0.004 means 0.4 %), got {float(bad.flat[0])!r}"
        )
    return arr


def _wallet(value: object, name: str = "wallet_balance") -> np.ndarray:
    """USDT standing behind a position: finite and 0 or more (a balance, not a debt)."""
    arr = _floats(value, name)
    if arr.size and not (arr.min() >= 0 and arr.max() < np.inf):
        bad = arr[~((arr >= 0) & (arr < np.inf))]
        raise MarginError(
            f"{name} must be a finite number of USDT, 0 or more (the balance behind the "
            f"position; other positions' losses go in other_unrealized_pnl), "
            f"got {float(bad.flat[0])!r}"
        )
    return arr


def _broadcast(function: str, **arrays: np.ndarray) -> None:
    """Refuse, naming two parameters, when the arrays' shapes do not broadcast together."""
    try:
        np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
        return
    except ValueError:
        pass
    names = list(arrays)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            a, b = np.shape(arrays[first]), np.shape(arrays[second])
            try:
                np.broadcast_shapes(a, b)
            except ValueError:
                raise MarginError(
                    f"{first} (shape {a}) and {second} (shape {b}) do not broadcast together "
                    f"in {function}: give arrays of one shape, or a scalar for a value shared "
                    "by every scenario"
                ) from None
    shapes = ", ".join(f"{n} {np.shape(a)}" for n, a in arrays.items())
    raise MarginError(f"{function}: the shapes {shapes} do not broadcast together")


def _overflow(function: str, result: np.ndarray, **inputs: np.ndarray) -> None:
    """Refuse finite inputs whose result is not finite (float64 overflowed or underflowed)."""
    bad = ~np.isfinite(result)
    if not bad.any():
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0]) if result.ndim else ()
    shape = result.shape
    values = ", ".join(
        f"{name}={float(np.broadcast_to(arr, shape)[index]):g}" for name, arr in inputs.items()
    )
    where = f" at index {index[0] if len(index) == 1 else index}" if index else ""
    raise MarginError(
        f"{', '.join(inputs)}: the inputs{where} ({values}) are out of range: the result "
        "overflows float64. Keep quantity × price and USDT amounts below 1e300 and "
        "quantity above 1e-300 (docs/formulas.md §14)"
    )


def _out(result: np.ndarray) -> ArrayLike:
    """Positive prices kept, the rest NaN; a float for 0-d results."""
    with np.errstate(invalid="ignore"):
        result = np.where(result > 0, result, np.nan)
    return float(result) if result.ndim == 0 else result


def liquidation_price(
    *,
    side: object,
    quantity: ArrayLike,
    entry_price: ArrayLike,
    wallet_balance: ArrayLike,
    maintenance_rate: ArrayLike,
    maintenance_amount: ArrayLike = 0.0,
    other_maintenance: ArrayLike = 0.0,
    other_unrealized_pnl: ArrayLike = 0.0,
) -> ArrayLike:
    """Mark price (USDT) at which a one-way position is liquidated.

    ``LP = (WB − TMM1 + UPNL1 + cum − s·Q·EP) / (Q·MMR − s·Q)`` (docs/formulas.md §2.2),
    assuming mark price, one-way mode and the given bracket (``maintenance_rate``,
    ``maintenance_amount``). Isolated: ``wallet_balance`` is the position's margin and the
    ``other_*`` terms are 0. Cross: ``wallet_balance`` is the cross wallet balance and
    ``other_*`` describe the other cross positions. Returns NaN where the price would be
    ≤ 0 (e.g. an isolated long at 1x). Checked against Binance's FAQ example and freqtrade
    (``tests/test_liquidation.py``).

    Parameters
    ----------
    side : "long" / "short" (or ±1, or an array of them)
    quantity : position size in base units (BTC), > 0
    entry_price : USDT, > 0
    wallet_balance : USDT behind the position
    maintenance_rate : fraction of notional, in [0, 1)
    maintenance_amount : USDT deducted from the maintenance margin ("cum")
    other_maintenance : USDT, maintenance margin of the other cross positions
    other_unrealized_pnl : USDT, unrealized PnL of the other cross positions

    Examples
    --------
    The guide's example: 1/3 BTC long at 60,000, isolated with 2,000 USDT, bracket 1.

    >>> round(liquidation_price(side="long", quantity=1/3, entry_price=60_000,
    ...                         wallet_balance=2_000, maintenance_rate=0.004), 2)
    54216.87
    >>> liquidation_price(side=["long", "short"], quantity=1/3, entry_price=60_000,
    ...                   wallet_balance=10_000, maintenance_rate=0.004).round(2).tolist()
    [30120.48, 89641.43]
    """
    sign = side_sign(side)
    mmr = _rate(maintenance_rate, "maintenance_rate")
    terms = {
        "quantity": quantity,
        "entry_price": entry_price,
        "wallet_balance": wallet_balance,
        "other_maintenance": other_maintenance,
        "other_unrealized_pnl": other_unrealized_pnl,
        "maintenance_amount": maintenance_amount,
    }
    q, ep, wb, tmm, upnl, cum = (_floats(value, name) for name, value in terms.items())
    for arr, name in ((q, "quantity"), (ep, "entry_price")):
        if arr.size and not arr.min() > 0:  # min is NaN if any element is
            _positive(arr, name)  # raises, naming the value
    if wb.size and not wb.min() >= 0:
        _wallet(wb)
    named = _named(terms, q, ep, wb, tmm, upnl, cum)
    _broadcast("liquidation_price", side=sign, maintenance_rate=mmr, **named)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):  # reported below
        result = (wb - tmm + upnl + cum - sign * q * ep) / (q * (mmr - sign))
    # With side and rate valid and quantity, entry_price > 0, the denominator is never 0, so
    # an infinite quantity or price, or a NaN or infinity in any USDT term, shows up in the
    # result: one pass checks them all; only then is each checked, to name the culprit.
    # Finite inputs with a non-finite result overflowed float64: refused too.
    if not np.isfinite(np.sum(result)):
        _positive(q, "quantity")
        _positive(ep, "entry_price")
        for arr, name in ((wb, "wallet_balance"), (tmm, "other_maintenance")):
            _array(arr, name)
        for arr, name in ((upnl, "other_unrealized_pnl"), (cum, "maintenance_amount")):
            _array(arr, name)
        _overflow(
            "quantity, entry_price, wallet_balance",
            np.asarray(result),
            quantity=q,
            entry_price=ep,
            wallet_balance=wb,
        )
    return _out(result)


def _named(terms: dict[str, object], *arrays: np.ndarray) -> dict[str, np.ndarray]:
    """The parsed arrays under their parameter names (same order as ``terms``)."""
    return dict(zip(terms, arrays, strict=True))


def bankruptcy_price(
    *,
    side: object,
    quantity: ArrayLike,
    entry_price: ArrayLike,
    wallet_balance: ArrayLike,
    other_unrealized_pnl: ArrayLike = 0.0,
) -> ArrayLike:
    """Mark price (USDT) at which the balance behind a position is exactly used up.

    ``BP = EP − s·(WB + UPNL1)/Q``: the liquidation condition with zero maintenance
    margin (docs/formulas.md §3). The liquidation price lies between entry and BP.
    NaN where BP ≤ 0.

    >>> bankruptcy_price(side="long", quantity=1/3, entry_price=60_000, wallet_balance=2_000)
    54000.0
    >>> bankruptcy_price(side="short", quantity=1/3, entry_price=60_000, wallet_balance=2_000)
    66000.0
    """
    sign = side_sign(side)
    q = _positive(quantity, "quantity")
    ep = _positive(entry_price, "entry_price")
    wb = _wallet(wallet_balance)
    upnl = _array(other_unrealized_pnl, "other_unrealized_pnl")
    _broadcast(
        "bankruptcy_price",
        side=sign,
        quantity=q,
        entry_price=ep,
        wallet_balance=wb,
        other_unrealized_pnl=upnl,
    )
    with np.errstate(over="ignore", invalid="ignore"):  # reported below
        result = np.asarray(ep - sign * (wb + upnl) / q)
    _overflow("quantity, wallet_balance", result, quantity=q, wallet_balance=wb)
    return _out(result)


def hedge_liquidation_price(
    *,
    long_quantity: ArrayLike,
    long_entry_price: ArrayLike,
    short_quantity: ArrayLike,
    short_entry_price: ArrayLike,
    wallet_balance: ArrayLike,
    long_maintenance_rate: ArrayLike,
    short_maintenance_rate: ArrayLike,
    long_maintenance_amount: ArrayLike = 0.0,
    short_maintenance_amount: ArrayLike = 0.0,
    other_maintenance: ArrayLike = 0.0,
    other_unrealized_pnl: ArrayLike = 0.0,
) -> ArrayLike:
    """Shared liquidation price (USDT) of a long and a short leg on one symbol (hedge, cross).

    The general formula of docs/formulas.md §2.4 with the one-way terms zero::

        LP = (WB − TMM1 + UPNL1 + cumL + cumS − QL·EPL + QS·EPS)
             / (QL·MMRL + QS·MMRS − QL + QS)

    A leg may have quantity 0. NaN where the price would be ≤ 0 or the denominator is 0
    (equal legs with zero maintenance rate never liquidate).

    >>> round(hedge_liquidation_price(long_quantity=1/3, long_entry_price=60_000,
    ...     short_quantity=0, short_entry_price=60_000, wallet_balance=2_000,
    ...     long_maintenance_rate=0.004, short_maintenance_rate=0.004), 2)
    54216.87
    """
    ql = _array(long_quantity, "long_quantity")
    qs = _array(short_quantity, "short_quantity")
    if np.any(ql < 0) or np.any(qs < 0) or np.any(ql + qs <= 0):
        raise MarginError("long_quantity and short_quantity must be 0 or more, not both 0")
    epl = _positive(long_entry_price, "long_entry_price")
    eps = _positive(short_entry_price, "short_entry_price")
    wb = _wallet(wallet_balance)
    mmrl = _rate(long_maintenance_rate, "long_maintenance_rate")
    mmrs = _rate(short_maintenance_rate, "short_maintenance_rate")
    cuml = _array(long_maintenance_amount, "long_maintenance_amount")
    cums = _array(short_maintenance_amount, "short_maintenance_amount")
    tmm = _array(other_maintenance, "other_maintenance")
    upnl = _array(other_unrealized_pnl, "other_unrealized_pnl")
    _broadcast(
        "hedge_liquidation_price",
        long_quantity=ql,
        long_entry_price=epl,
        short_quantity=qs,
        short_entry_price=eps,
        wallet_balance=wb,
        long_maintenance_rate=mmrl,
        short_maintenance_rate=mmrs,
        long_maintenance_amount=cuml,
        short_maintenance_amount=cums,
        other_maintenance=tmm,
        other_unrealized_pnl=upnl,
    )
    with np.errstate(over="ignore", invalid="ignore"):  # reported below
        numerator = wb - tmm + upnl + cuml + cums - ql * epl + qs * eps
        denominator = ql * mmrl + qs * mmrs - ql + qs
    _overflow(
        "long_quantity, short_quantity, wallet_balance",
        np.asarray(numerator),
        long_quantity=ql,
        short_quantity=qs,
        wallet_balance=wb,
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        result = np.where(
            denominator != 0, numerator / np.where(denominator != 0, denominator, 1), np.nan
        )
    return _out(result)


def margin_ratio(
    *,
    side: object,
    quantity: ArrayLike,
    entry_price: ArrayLike,
    mark_price: ArrayLike,
    wallet_balance: ArrayLike,
    maintenance_rate: ArrayLike,
    maintenance_amount: ArrayLike = 0.0,
    other_maintenance: ArrayLike = 0.0,
    other_unrealized_pnl: ArrayLike = 0.0,
) -> ArrayLike:
    """Margin ratio (fraction; 1.0 = liquidation) of one position's scope at a mark price.

    ``(TMM1 + Q·P·MMR − cum) / (WB + UPNL1 + s·Q·(P − EP))``; ``inf`` once the margin
    balance is 0 or negative. Same terms as :func:`liquidation_price`.

    >>> round(margin_ratio(side="long", quantity=1/3, entry_price=60_000,
    ...     mark_price=54_216.867469879515, wallet_balance=2_000, maintenance_rate=0.004), 9)
    1.0
    """
    sign = side_sign(side)
    q = _positive(quantity, "quantity")
    ep = _positive(entry_price, "entry_price")
    p = _positive(mark_price, "mark_price")
    wb = _wallet(wallet_balance)
    mmr = _rate(maintenance_rate, "maintenance_rate")
    cum = _array(maintenance_amount, "maintenance_amount")
    tmm = _array(other_maintenance, "other_maintenance")
    upnl = _array(other_unrealized_pnl, "other_unrealized_pnl")
    _broadcast(
        "margin_ratio",
        side=sign,
        quantity=q,
        entry_price=ep,
        mark_price=p,
        wallet_balance=wb,
        maintenance_rate=mmr,
        maintenance_amount=cum,
        other_maintenance=tmm,
        other_unrealized_pnl=upnl,
    )
    with np.errstate(over="ignore", invalid="ignore"):  # reported below
        maintenance = tmm + q * p * mmr - cum
        balance = wb + upnl + sign * q * (p - ep)
    _overflow(
        "quantity, mark_price, entry_price, wallet_balance",
        np.asarray(maintenance + balance),
        quantity=q,
        mark_price=p,
        entry_price=ep,
        wallet_balance=wb,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(balance > 0, maintenance / np.where(balance > 0, balance, 1), np.inf)
    return float(result) if result.ndim == 0 else result


def tiered_liquidation_price(
    table: TierTable,
    *,
    side: object,
    quantity: ArrayLike,
    entry_price: ArrayLike,
    wallet_balance: ArrayLike,
    other_maintenance: ArrayLike = 0.0,
    other_unrealized_pnl: ArrayLike = 0.0,
) -> ArrayLike:
    """Liquidation price using the bracket that holds the notional *at* that price.

    Binance's rule (docs/formulas.md §2.5): if the notional at the computed price falls in
    another bracket than the one assumed, redo the calculation with that bracket. Because
    maintenance margin is continuous in the notional, the margin balance minus maintenance
    margin is monotonic in price (rising for a long, falling for a short); its sign at the
    bracket edges tells which bracket holds the root, and the price is computed once with
    that bracket. At an edge both neighbours give the same price, so a notional that lands
    exactly on an edge (or a rounding error away from it) is handled without a gap.

    >>> from marginlab.engine.tiers import load_tiers
    >>> round(tiered_liquidation_price(load_tiers("BTCUSDT"), side="long", quantity=4,
    ...     entry_price=100_000, wallet_balance=200_000), 2)
    50200.8
    """
    sign = side_sign(side)
    q = _positive(quantity, "quantity")
    ep = _positive(entry_price, "entry_price")
    wb = _wallet(wallet_balance)
    tmm = _array(other_maintenance, "other_maintenance")
    upnl = _array(other_unrealized_pnl, "other_unrealized_pnl")
    _broadcast(
        "tiered_liquidation_price",
        side=sign,
        quantity=q,
        entry_price=ep,
        wallet_balance=wb,
        other_maintenance=tmm,
        other_unrealized_pnl=upnl,
    )
    cols = table.arrays()
    edge = cols["cap"][:-1]  # notionals (USDT) where one bracket hands over to the next
    edge_mm = edge * cols["maintenance_rate"][:-1] - cols["maintenance_amount"][:-1]
    s = np.expand_dims(sign, -1)
    # Margin balance minus maintenance margin at each edge price (edge / Q); the price lies
    # above an edge exactly where sign × gap < 0, and the count of such edges is the bracket.
    with np.errstate(over="ignore", invalid="ignore"):  # liquidation_price reports overflow
        gap = np.expand_dims(wb - tmm + upnl - sign * q * ep, -1) + s * edge - edge_mm
    index = np.count_nonzero(s * gap < 0, axis=-1)
    return liquidation_price(
        side=sign,
        quantity=q,
        entry_price=ep,
        wallet_balance=wb,
        maintenance_rate=cols["maintenance_rate"][index],
        maintenance_amount=cols["maintenance_amount"][index],
        other_maintenance=tmm,
        other_unrealized_pnl=upnl,
    )
