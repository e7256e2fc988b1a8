"""Maintenance-margin brackets: the shipped tables, lookup and continuity (docs/formulas.md §4)."""

import itertools

import numpy as np
import pytest

from marginlab.engine import Tier, TierTable, available_symbols, load_tiers

USDT_TOL = 0.005  # half a cent

# docs/formulas.md §4, BTCUSDT 2026-09-29: (floor, cap, max leverage, rate, amount)
BTC_TABLE = [
    (0, 300_000, 150, 0.004, 0),
    (300_000, 800_000, 100, 0.005, 300),
    (800_000, 3_000_000, 75, 0.0065, 1_500),
    (3_000_000, 12_000_000, 50, 0.01, 12_000),
    (12_000_000, 70_000_000, 25, 0.02, 132_000),
    (70_000_000, 100_000_000, 20, 0.025, 482_000),
    (100_000_000, 230_000_000, 10, 0.05, 2_982_000),
    (230_000_000, 480_000_000, 5, 0.10, 14_482_000),
    (480_000_000, 600_000_000, 4, 0.125, 26_482_000),
    (600_000_000, 800_000_000, 3, 0.15, 41_482_000),
    (800_000_000, 1_200_000_000, 2, 0.25, 121_482_000),
    (1_200_000_000, 1_800_000_000, 1, 0.50, 421_482_000),
]
ETH_TABLE = [
    (0, 300_000, 150, 0.004, 0),
    (300_000, 800_000, 100, 0.005, 300),
    (800_000, 3_000_000, 75, 0.0065, 1_500),
    (3_000_000, 12_000_000, 50, 0.01, 12_000),
    (12_000_000, 50_000_000, 25, 0.02, 132_000),
    (50_000_000, 65_000_000, 20, 0.025, 382_000),
    (65_000_000, 150_000_000, 10, 0.05, 2_007_000),
    (150_000_000, 320_000_000, 5, 0.10, 9_507_000),
    (320_000_000, 400_000_000, 4, 0.125, 17_507_000),
    (400_000_000, 530_000_000, 3, 0.15, 27_507_000),
    (530_000_000, 800_000_000, 2, 0.25, 80_507_000),
    (800_000_000, 1_200_000_000, 1, 0.50, 280_507_000),
]
TABLES = {"BTCUSDT": BTC_TABLE, "ETHUSDT": ETH_TABLE}


def test_available_symbols_lists_btc_and_eth():
    assert {"BTCUSDT", "ETHUSDT"} <= set(available_symbols())


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
def test_load_tiers_matches_published_table(symbol):
    table = load_tiers(symbol)
    rows = [
        (t.floor, t.cap, t.max_leverage, t.maintenance_rate, t.maintenance_amount)
        for t in table.tiers
    ]
    assert rows == TABLES[symbol]
    assert [t.bracket for t in table.tiers] == list(range(1, 13))


def test_load_tiers_carries_source_and_date():
    table = load_tiers("BTCUSDT")
    assert table.date == "2026-09-29"
    assert "freqtrade" in table.source and "leverageBracket" in table.source


def test_load_tiers_lower_case_symbol_same_table():
    assert load_tiers("btcusdt") == load_tiers("BTCUSDT")


@pytest.mark.parametrize(
    ("notional_usdt", "bracket"),
    [
        pytest.param(0, 1, id="zero"),
        pytest.param(20_000, 1, id="guide-20k"),
        pytest.param(299_999.99, 1, id="just-below-300k"),
        pytest.param(300_000, 2, id="floor-inclusive-300k"),
        pytest.param(400_000, 2, id="400k"),
        pytest.param(800_000, 3, id="floor-inclusive-800k"),
        pytest.param(1_800_000_000, 12, id="last-cap"),
    ],
)
def test_lookup_btc_notional_in_expected_bracket(notional_usdt, bracket):
    assert load_tiers("BTCUSDT").lookup(notional_usdt).bracket == bracket


def test_lookup_above_last_cap_raises_naming_notional():
    with pytest.raises(ValueError, match="notional_usdt"):
        load_tiers("BTCUSDT").lookup(1_800_000_001)


def test_lookup_negative_notional_raises_naming_notional():
    with pytest.raises(ValueError, match="notional_usdt"):
        load_tiers("BTCUSDT").lookup(-1)


@pytest.mark.parametrize(
    ("notional_usdt", "expected_usdt"),
    [
        pytest.param(20_000, 80.0, id="guide-20k"),  # 20,000 × 0.4 %
        pytest.param(400_000, 1_700.0, id="b2-400k"),  # 400,000 × 0.5 % − 300
        pytest.param(1_000_000, 5_000.0, id="b3-1m"),  # 1,000,000 × 0.65 % − 1,500
        pytest.param(20_000_000, 268_000.0, id="b5-20m"),  # 20,000,000 × 2 % − 132,000
    ],
)
def test_maintenance_margin_btc_hand_values(notional_usdt, expected_usdt):
    assert abs(load_tiers("BTCUSDT").maintenance_margin(notional_usdt) - expected_usdt) < USDT_TOL


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
def test_maintenance_amounts_follow_cum_rule(symbol):
    # cum_n = floor_n × (rate_n − rate_{n−1}) + cum_{n−1} (docs/formulas.md §4)
    tiers = load_tiers(symbol).tiers
    for below, above in itertools.pairwise(tiers):
        cum = above.floor * (above.maintenance_rate - below.maintenance_rate)
        expected = cum + below.maintenance_amount
        assert abs(above.maintenance_amount - expected) < USDT_TOL


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
def test_maintenance_terms_vectorized_equals_lookup(symbol):
    table = load_tiers(symbol)
    notionals = np.array([0, 1, 299_999, 300_000, 799_999, 800_000, 5e6, 6e7, 9e8, 1.2e9])
    rates, amounts = table.maintenance_terms(notionals)
    for notional, rate, amount in zip(notionals, rates, amounts, strict=True):
        tier = table.lookup(notional)
        assert (rate, amount) == (tier.maintenance_rate, tier.maintenance_amount)


def test_tier_table_discontinuous_amounts_refused():
    tiers = (
        Tier(1, 0, 100, 10, 0.01, 0),
        Tier(2, 100, 200, 5, 0.02, 5),  # continuity needs 100 × 1 % = 1, not 5
    )
    with pytest.raises(ValueError, match="continuity"):
        TierTable("TEST", tiers, source="test", date="2026-01-01")


def test_load_tiers_unknown_symbol_raises_listing_known():
    with pytest.raises(ValueError, match="BTCUSDT"):
        load_tiers("DOGEUSDT")
