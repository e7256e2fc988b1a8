"""The ``marginlab`` command: calc prints the engine's numbers, lessons copy, lab, --version.

Hand-worked numbers (guide's example, BTCUSDT bracket 1: maintenance rate 0.4 %, amount 0;
Q = 20,000 / 60,000 = 1/3 BTC):
  isolated long LP = (60,000 − 2,000·3) / (1 − 0.004) = 54,000 / 0.996 = 54,216.87
  cross long LP    = (60,000 − 10,000·3) / 0.996      = 30,000 / 0.996 = 30,120.48
  bankruptcy: 60,000 − 2,000·3 = 54,000 (isolated); 60,000 − 10,000·3 = 30,000 (cross)
  maintenance margin at LP: 54,216.87/3 · 0.004 = 72.29; 30,120.48/3 · 0.004 = 40.16
"""

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import marginlab
from marginlab import cli
from marginlab.course import LESSONS_ENV
from marginlab.scenarios import guide_account, losing_neighbour_account
from marginlab.scenarios.guide import NEIGHBOUR_LOSING_MARKS

SCRIPT = Path(sys.executable).with_name("marginlab")


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _row(text: str, label: str) -> list[str]:
    """The cells of the table row starting with ``label`` (columns are 2+ spaces apart)."""
    line = next(line for line in text.splitlines() if line.startswith(label))
    return re.split(r"\s{2,}", line[len(label) :].strip())


# ----------------------------------------------------------------------------- calc
def test_calc_no_arguments_prints_guide_example_side_by_side(capsys):
    code, out, err = _run(capsys, "calc")
    assert (code, err) == (0, "")
    assert _row(out, " ") == ["isolated", "cross"]
    assert _row(out, "liquidation price (USDT)") == ["54,216.87", "30,120.48"]
    assert _row(out, "distance from entry") == ["9.64% below entry", "49.80% below entry"]
    assert _row(out, "bankruptcy price (USDT)") == ["54,000.00", "30,000.00"]
    assert _row(out, "maintenance margin at liquidation (USDT)") == ["72.29", "40.16"]
    assert _row(out, "margin ratio at liquidation") == ["100.00%", "100.00%"]
    assert _row(out, "loss at liquidation (USDT)") == ["2,000.00", "10,000.00"]
    assert _row(out, "kept after liquidation (USDT)") == ["8,000.00", "0.00"]
    assert "Educational, not financial advice." in out


def test_calc_no_arguments_liquidation_prices_equal_engine(capsys):
    _, out, _ = _run(capsys, "calc")
    expected = [
        f"{guide_account(m).liquidation_price('BTCUSDT'):,.2f}" for m in ("isolated", "cross")
    ]
    assert _row(out, "liquidation price (USDT)") == expected


def test_calc_json_matches_engine_and_parses(capsys):
    code, out, _ = _run(capsys, "calc", "--json")
    data = json.loads(out)
    assert code == 0
    for mode, loss, kept in (("isolated", 2_000.0, 8_000.0), ("cross", 10_000.0, 0.0)):
        result = data["results"][mode]
        account = guide_account(mode)
        assert result["liquidation_price"] == account.liquidation_price("BTCUSDT")
        assert (result["loss_usdt"], result["kept_usdt"]) == (loss, kept)
    assert round(data["results"]["isolated"]["liquidation_price"], 2) == 54_216.87
    assert round(data["results"]["cross"]["liquidation_price"], 2) == 30_120.48
    assert data["results"]["isolated"]["bankruptcy_price"] == 54_000.0
    assert data["quantity"] == 20_000 / 60_000


def test_calc_short_is_mirror_of_long(capsys):
    # isolated (60,000 + 6,000)/1.004 = 65,737.05; cross (60,000 + 30,000)/1.004 = 89,641.43
    _, out, _ = _run(capsys, "calc", "--side", "short")
    assert _row(out, "liquidation price (USDT)") == ["65,737.05", "89,641.43"]
    assert _row(out, "distance from entry") == ["9.56% above entry", "49.40% above entry"]
    assert _row(out, "loss at liquidation (USDT)") == ["2,000.00", "10,000.00"]


def test_calc_mode_cross_shows_one_column(capsys):
    _, out, _ = _run(capsys, "calc", "--mode", "cross", "--balance", "5000")
    # cross: (60,000 − 5,000·3)/0.996 = 45,180.72; whole 5,000 lost
    assert _row(out, " ") == ["cross"]
    assert _row(out, "liquidation price (USDT)") == ["45,180.72"]
    assert _row(out, "kept after liquidation (USDT)") == ["0.00"]


def test_calc_losing_neighbour_moves_cross_not_isolated(capsys):
    # ETH long 10 from 3,000 at mark 2,500: uPnL −5,000, MM 25,000·0.004 = 100;
    # cross (60,000 − (10,000 − 100 − 5,000)·3)/0.996 = 45,300/0.996 = 45,481.93
    _, out, _ = _run(
        capsys, "calc", "--neighbour", "ETHUSDT:long:10@3000", "--neighbour-mark", "2500"
    )
    assert _row(out, "liquidation price (USDT)") == ["54,216.87", "45,481.93"]
    assert _row(out, "loss at liquidation (USDT)") == ["2,000.00", "10,000.00"]
    assert _row(out, "positions liquidated") == ["BTCUSDT", "BTCUSDT, ETHUSDT"]
    assert "unrealized PnL -5,000.00 USDT" in out


def test_calc_neighbour_guide_scenario_equals_engine_scenario(capsys):
    code, out, _ = _run(
        capsys, "calc", "--neighbour", "ETHUSDT:long:10@3000", "--neighbour-mark", "2100", "--json"
    )
    data = json.loads(out)
    engine = losing_neighbour_account("cross").liquidation_price("BTCUSDT", NEIGHBOUR_LOSING_MARKS)
    assert code == 0
    assert data["results"]["cross"]["liquidation_price"] == engine
    assert round(engine, 2) == 57_481.93  # closer to entry than isolated 54,216.87
    # isolated: the cross pool 8,000 < ETH's 9,000 loss, so ETH goes on its own
    assert data["results"]["isolated"]["liquidated_at_entry"] == ["ETHUSDT"]
    assert data["results"]["isolated"]["loss_at_entry_usdt"] == 8_000.0


def test_calc_isolated_long_1x_cannot_be_liquidated(capsys):
    _, out, _ = _run(capsys, "calc", "--leverage", "1", "--mode", "isolated")
    assert _row(out, "liquidation price (USDT)") == ["n/a"]
    assert "isolated: cannot be liquidated by price." in out
    _, out, _ = _run(capsys, "calc", "--leverage", "1", "--json")
    data = json.loads(out)
    assert data["results"]["isolated"]["liquidation_price"] is None
    assert data["results"]["isolated"]["loss_usdt"] is None


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        pytest.param(
            ["--leverage", "200"], "leverage must be between 1 and 150", id="leverage-max"
        ),
        pytest.param(["--leverage", "x"], "invalid float value: 'x'", id="leverage-text"),
        pytest.param(["--leverage", "0"], "leverage must be between 1", id="leverage-zero"),
        pytest.param(["--balance", "-1"], "wallet_balance must be 0 or more", id="balance-neg"),
        pytest.param(["--balance", "nan"], "wallet_balance must be a finite", id="balance-nan"),
        pytest.param(
            ["--balance", "1e20"],
            "--balance must be at most 1,000,000,000,000 USDT (1e+12), the range in which "
            "every amount is exact to the cent; got 1e20",
            id="balance-beyond-exact-range",
        ),
        pytest.param(["--margin", "20000"], "exceeds the available balance", id="margin-big"),
        pytest.param(["--entry", "0"], "price must be greater than 0", id="entry-zero"),
        pytest.param(["--symbol", "XRPUSDT"], "invalid choice: 'XRPUSDT'", id="symbol-unknown"),
        pytest.param(["--side", "up"], "invalid choice: 'up'", id="side-unknown"),
        pytest.param(["--mode", "both2"], "invalid choice: 'both2'", id="mode-unknown"),
        pytest.param(["--neighbour", "ETH:long"], "SYMBOL:SIDE:QUANTITY@ENTRY", id="nb-form"),
        pytest.param(["--neighbour", "BTCUSDT:long:1@60000"], "must differ", id="nb-same"),
        pytest.param(["--neighbour", "ETHUSDT:long:1000@3000"], "neighbour: margin", id="nb-big"),
        pytest.param(["--neighbour-mark", "2100"], "need --neighbour", id="nb-mark-alone"),
        pytest.param(["--bogus"], "unrecognized arguments: --bogus", id="unknown-option"),
    ],
)
def test_calc_bad_arguments_exit_2_one_line(capsys, argv, needle):
    code, out, err = _run(capsys, "calc", *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("marginlab calc: error: ")
    assert needle in err
    assert "Traceback" not in err


def test_console_script_calc_prints_engine_numbers():
    if not SCRIPT.exists():
        pytest.skip(f"console script not installed at {SCRIPT}")
    done = subprocess.run([SCRIPT, "calc"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert _row(done.stdout, "liquidation price (USDT)") == ["54,216.87", "30,120.48"]
    assert _row(done.stdout, "loss at liquidation (USDT)") == ["2,000.00", "10,000.00"]
    assert _row(done.stdout, "kept after liquidation (USDT)") == ["8,000.00", "0.00"]


def test_console_script_bad_leverage_exit_2_without_traceback():
    if not SCRIPT.exists():
        pytest.skip(f"console script not installed at {SCRIPT}")
    done = subprocess.run(
        [SCRIPT, "calc", "--leverage", "500", "--json"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "marginlab calc: error: leverage must be between 1 and 150 for BTCUSDT, got 500.0"
    ]


# --------------------------------------------------------------------- top level
def test_main_version_prints_package_version(capsys):
    code, out, _ = _run(capsys, "--version")
    assert (code, out) == (0, f"marginlab {marginlab.__version__}\n")


def test_main_no_command_exit_2_one_line(capsys):
    code, _, err = _run(capsys)
    assert code == 2
    assert err.splitlines() == [
        "marginlab: error: the following arguments are required: COMMAND (see marginlab --help)"
    ]


# ------------------------------------------------------------------- lessons copy
@pytest.fixture
def fake_lessons(tmp_path, monkeypatch) -> Path:
    source = tmp_path / "lessons"
    source.mkdir()
    (source / "01-isolated.ipynb").write_text('{"cells": []}')
    monkeypatch.setenv(LESSONS_ENV, str(source))
    return source


def test_lessons_copy_new_dir_copies_then_refuses_overwrite(capsys, tmp_path, fake_lessons):
    dest = tmp_path / "mine"
    code, out, _ = _run(capsys, "lessons", "copy", str(dest))
    assert (code, out) == (0, f"Copied the lessons into {dest}\n")
    assert (dest / "01-isolated.ipynb").read_text() == '{"cells": []}'
    (dest / "01-isolated.ipynb").write_text("my answers")
    code, out, err = _run(capsys, "lessons", "copy", str(dest))
    assert (code, out) == (2, "")
    assert err.startswith("marginlab lessons copy: error: ")
    assert len(err.strip().splitlines()) == 1
    assert (dest / "01-isolated.ipynb").read_text() == "my answers"


def test_lessons_copy_force_overwrites(capsys, tmp_path, fake_lessons):
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "01-isolated.ipynb").write_text("my answers")
    code, _, _ = _run(capsys, "lessons", "copy", str(dest), "--force")
    assert code == 0
    assert (dest / "01-isolated.ipynb").read_text() == '{"cells": []}'


def test_lessons_copy_missing_lessons_exit_2(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(LESSONS_ENV, str(tmp_path / "nowhere"))
    code, _, err = _run(capsys, "lessons", "copy", str(tmp_path / "mine"))
    assert code == 2
    assert "lessons folder not found" in err
    assert len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------- lab
def test_lab_dry_run_binds_loopback_and_changes_nothing(capsys, tmp_path):
    dest = tmp_path / "mine"
    code, out, err = _run(capsys, "lab", "--dir", str(dest), "--dry-run", "--no-browser")
    command = out.splitlines()[-1]
    assert (code, err) == (0, "")
    assert "--ServerApp.ip=127.0.0.1" in command
    assert f"--ServerApp.root_dir={dest}" in command
    assert "--ServerApp.open_browser=False" in command
    assert f"would copy the lessons into {dest}" in out
    assert not dest.exists()


def test_lab_dry_run_room_host_warns(capsys, tmp_path):
    code, out, err = _run(
        capsys, "lab", "--dir", str(tmp_path), "--host", "0.0.0.0", "--port", "9000", "--dry-run"
    )
    assert code == 0
    assert "--ServerApp.ip=0.0.0.0" in out
    assert "--ServerApp.port=9000" in out
    assert "allow_root" not in out
    assert err.startswith("warning: serving on 0.0.0.0")


def test_lab_dry_run_allow_root_passed_to_jupyter(capsys, tmp_path):
    _, out, _ = _run(capsys, "lab", "--dir", str(tmp_path), "--allow-root", "--dry-run")
    assert out.splitlines()[-1].endswith(" --ServerApp.allow_root=True")


def test_lab_bad_port_exit_2(capsys, tmp_path):
    code, _, err = _run(capsys, "lab", "--dir", str(tmp_path), "--port", "70000", "--dry-run")
    assert code == 2
    assert err.startswith("marginlab lab: error: --port must be between 1 and 65535")


class _Exec(Exception):
    """Stands in for os.execv, which would replace the test process with JupyterLab."""


def _fake_execv(path, args):
    raise _Exec(args)


def test_lab_missing_copy_is_created_then_jupyter_exec(monkeypatch, capsys, tmp_path, fake_lessons):
    monkeypatch.setattr(cli.os, "execv", _fake_execv)
    monkeypatch.setattr(cli.os, "name", "posix")
    dest = tmp_path / "mine"
    with pytest.raises(_Exec) as started:
        cli.main(["lab", "--dir", str(dest)])
    command = started.value.args[0]
    assert command[:4] == [sys.executable, "-m", "jupyter", "lab"]
    assert "--ServerApp.ip=127.0.0.1" in command
    assert f"--ServerApp.root_dir={dest}" in command
    assert (dest / "01-isolated.ipynb").read_text() == '{"cells": []}'
    assert f"Copied the lessons into {dest}" in capsys.readouterr().out


def test_lab_existing_copy_kept(monkeypatch, capsys, tmp_path, fake_lessons):
    monkeypatch.setattr(cli.os, "execv", _fake_execv)
    monkeypatch.setattr(cli.os, "name", "posix")
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "01-isolated.ipynb").write_text("my answers")
    with pytest.raises(_Exec):
        cli.main(["lab", "--dir", str(dest)])
    assert (dest / "01-isolated.ipynb").read_text() == "my answers"
    assert f"Using your copy in {dest}" in capsys.readouterr().out


@pytest.fixture
def taken_port():
    """A port on 127.0.0.1 that another program listens on for the test's duration."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_lab_requested_port_taken_exits_2_saying_so(capsys, tmp_path, fake_lessons, taken_port):
    code, out, err = _run(capsys, "lab", "--dir", str(tmp_path / "mine"), "--port", str(taken_port))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"marginlab lab: error: port {taken_port} on 127.0.0.1 is taken by another program "
        "(another JupyterLab?); stop it, or choose another port with --port"
    ]
    assert not (tmp_path / "mine").exists()


def test_lab_requested_free_port_is_used_and_never_moved(monkeypatch, tmp_path, fake_lessons):
    monkeypatch.setattr(cli.os, "execv", _fake_execv)
    monkeypatch.setattr(cli.os, "name", "posix")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(_Exec) as started:
        cli.main(["lab", "--dir", str(tmp_path / "mine"), "--port", str(port)])
    command = started.value.args[0]
    assert f"--ServerApp.port={port}" in command
    assert "--ServerApp.port_retries=0" in command


def test_lab_default_port_taken_says_which_port_it_uses(
    monkeypatch, capsys, tmp_path, fake_lessons, taken_port
):
    monkeypatch.setattr(cli.os, "execv", _fake_execv)
    monkeypatch.setattr(cli.os, "name", "posix")
    monkeypatch.setattr(cli, "DEFAULT_LAB_PORT", taken_port)
    with pytest.raises(_Exec) as started:
        cli.main(["lab", "--dir", str(tmp_path / "mine")])
    command = started.value.args[0]
    (port,) = [int(c.split("=")[1]) for c in command if c.startswith("--ServerApp.port=")]
    assert port > taken_port
    assert "--ServerApp.port_retries=0" in command
    err = capsys.readouterr().err
    assert f"port {taken_port} on 127.0.0.1 is taken; using port {port}" in err


def test_lab_host_not_on_this_machine_exits_2_one_line(capsys, tmp_path, fake_lessons):
    code, _, err = _run(capsys, "lab", "--dir", str(tmp_path), "--host", "no-such-host.invalid")
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("marginlab lab: error: cannot serve on host 'no-such-host.invalid'")


# ---------------------------------------------------------------------------- present
def test_present_dry_run_serves_one_lesson_on_loopback_without_code(capsys):
    code, out, _ = _run(capsys, "present", "03", "--dry-run", "--no-browser")
    assert code == 0
    assert "03-liquidation-threshold.ipynb" in out
    assert "--Voila.ip=127.0.0.1" in out and "--preheat_kernel=True" in out
    # No code, the marginlab template: Voila's installed settings (voila.json) say so.
    assert "--template" not in out and "--strip_sources" not in out


def test_present_without_voila_settings_installed_exits_2_one_line(capsys, monkeypatch):
    from marginlab import serve

    monkeypatch.setattr(serve, "voila_settings", lambda: {"template": "lab"})
    code, out, err = _run(capsys, "present", "03", "--dry-run", "--no-browser")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("marginlab present: error: Voila's settings for the course are not")


def test_present_room_host_warns(capsys):
    code, _, err = _run(capsys, "present", "--host", "0.0.0.0", "--dry-run")
    assert code == 0 and "warning: serving on 0.0.0.0" in err


def test_present_unknown_lesson_exits_2_with_one_line(capsys):
    code, _, err = _run(capsys, "present", "99", "--dry-run")
    assert code == 2
    assert err.count("\n") == 1 and "matches no lesson" in err and "Traceback" not in err


def test_calc_at_the_top_of_the_balance_range_is_exact_to_the_cent(capsys):
    # 2,000 isolated in a 1e12 wallet: the loss is 2,000.00, what is kept 999,999,998,000.00
    code, out, _ = _run(capsys, "calc", "--balance", "1e12", "--json")
    assert code == 0
    isolated = json.loads(out)["results"]["isolated"]
    assert (isolated["loss_usdt"], isolated["kept_usdt"]) == (2_000.0, 999_999_998_000.0)
