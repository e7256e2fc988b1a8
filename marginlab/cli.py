"""The ``marginlab`` command: a terminal calculator, the learner's copy of the course, the lab.

Each subcommand is an ``_add_<name>(subparsers)`` function that builds its parser and
sets ``run`` to a function taking the parsed arguments and returning the exit code; to
add one, write those two functions and list the first in ``_COMMANDS``.

Bad arguments and refused input print one line, ``marginlab <command>: error: ...``, to
stderr and exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from marginlab import __version__
from marginlab.calc import CalcResult, ModeResult, Neighbour, calculate, parse_neighbour
from marginlab.course import copy_lessons, ensure_lessons_copy
from marginlab.engine import MAX_WALLET_USDT, available_symbols
from marginlab.scenarios import GUIDE

DISCLAIMER = "Educational, not financial advice."
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_LAB_PORT = 8888  # JupyterLab's own default


class UsageError(Exception):
    """Bad command-line input found after parsing; printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``<prog>: error: <message>`` and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ------------------------------------------------------------------------------ calc
def _add_calc(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calc",
        help="liquidation price and loss of one position, isolated vs cross",
        description=(
            "Liquidation price, distance from entry, bankruptcy price, maintenance margin "
            "at liquidation, loss at liquidation and what is kept, for one USDT-margined "
            "perpetual position in isolated and in cross margin. With no options: the "
            "guide's example (a 10,000 USDT account, 2,000 USDT on a BTC long at 10x from "
            "60,000). Prices are mark prices in USDT; fees and funding are not included. "
            + DISCLAIMER
        ),
        epilog=(
            "neighbour: another open position in the same account, always in cross margin. "
            "Its unrealized PnL at --neighbour-mark moves a cross liquidation price and "
            "never an isolated one. Example: marginlab calc --neighbour ETHUSDT:long:10@3000 "
            "--neighbour-mark 2100"
        ),
    )
    symbols = available_symbols()
    parser.add_argument(
        "--balance", type=_balance_arg, default=GUIDE.wallet_balance, metavar="USDT",
        help=f"futures wallet balance in USDT, at most {MAX_WALLET_USDT:g} (default: %(default)g)",
    )  # fmt: skip
    parser.add_argument(
        "--margin", type=float, default=GUIDE.margin, metavar="USDT",
        help="initial margin of the position in USDT (default: %(default)g)",
    )  # fmt: skip
    parser.add_argument(
        "--leverage", type=float, default=GUIDE.leverage, metavar="X",
        help="leverage, within the bracket's maximum (default: %(default)g)",
    )  # fmt: skip
    parser.add_argument(
        "--entry", type=float, default=GUIDE.entry_price, metavar="PRICE",
        help="entry price in USDT (default: %(default)g)",
    )  # fmt: skip
    parser.add_argument(
        "--side", choices=("long", "short"), default=GUIDE.side,
        help="position side (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--symbol", type=str.upper, choices=symbols, default=GUIDE.symbol,
        help="symbol whose bracket table is used (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--mode", choices=("both", "isolated", "cross"), default="both",
        help="margin mode(s) to show (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--neighbour", type=_neighbour_arg, metavar="SYMBOL:SIDE:QTY@ENTRY",
        help="add a cross neighbour position, e.g. ETHUSDT:long:10@3000 (QTY in base units)",
    )  # fmt: skip
    parser.add_argument(
        "--neighbour-mark", type=float, metavar="PRICE",
        help="the neighbour's mark price in USDT (default: its entry, no PnL)",
    )  # fmt: skip
    parser.add_argument(
        "--neighbour-leverage", type=float, metavar="X",
        help="the neighbour's leverage (default: 10)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON (NaN as null)")
    parser.set_defaults(run=_run_calc, prog=parser.prog)


def _balance_arg(text: str) -> float:
    """--balance as a float, refused above the range in which amounts are exact."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--balance must be a number of USDT, got {text!r}"
        ) from None
    if value > MAX_WALLET_USDT:
        raise argparse.ArgumentTypeError(
            f"--balance must be at most {MAX_WALLET_USDT:,.0f} USDT ({MAX_WALLET_USDT:g}), the "
            f"range in which every amount is exact to the cent; got {text}"
        )
    return value


def _neighbour_arg(text: str) -> Neighbour:
    try:
        return parse_neighbour(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _run_calc(args: argparse.Namespace) -> int:
    neighbour = args.neighbour
    if neighbour is None and (args.neighbour_mark, args.neighbour_leverage) != (None, None):
        raise UsageError(
            "--neighbour-mark and --neighbour-leverage need --neighbour SYMBOL:SIDE:QTY@ENTRY"
        )
    if neighbour is not None:
        neighbour = Neighbour(
            symbol=neighbour.symbol,
            side=neighbour.side,
            quantity=neighbour.quantity,
            entry_price=neighbour.entry_price,
            leverage=10.0 if args.neighbour_leverage is None else args.neighbour_leverage,
            mark_price=args.neighbour_mark,
        )
    modes = ("isolated", "cross") if args.mode == "both" else (args.mode,)
    try:
        result = calculate(
            wallet_balance=args.balance,
            margin=args.margin,
            leverage=args.leverage,
            entry_price=args.entry,
            side=args.side,
            symbol=args.symbol,
            modes=modes,
            neighbour=neighbour,
        )
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, allow_nan=False))
    else:
        print(format_calc(result))
    return 0


def _money(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.2f}"


def _distance(rate: float) -> str:
    if math.isnan(rate):
        return "n/a"
    return f"{abs(rate) * 100:,.2f}% {'below' if rate < 0 else 'above'} entry"


def _percent(rate: float) -> str:
    return "n/a" if math.isnan(rate) else f"{rate * 100:,.2f}%"


_ROWS: tuple[tuple[str, Callable[[ModeResult], str]], ...] = (
    ("liquidation price (USDT)", lambda r: _money(r.liquidation_price)),
    ("distance from entry", lambda r: _distance(r.distance_from_entry_rate)),
    ("bankruptcy price (USDT)", lambda r: _money(r.bankruptcy_price)),
    ("maintenance margin at liquidation (USDT)", lambda r: _money(r.maintenance_margin_usdt)),
    ("margin ratio at liquidation", lambda r: _percent(r.margin_ratio_at_liquidation)),
    ("loss at liquidation (USDT)", lambda r: _money(r.loss_usdt)),
    ("kept after liquidation (USDT)", lambda r: _money(r.kept_usdt)),
    ("positions liquidated", lambda r: ", ".join(r.liquidated) or "n/a"),
)


def format_calc(result: CalcResult) -> str:
    """The calculator's text: the position, a table with one column per mode, notes."""
    base = result.symbol.removesuffix("USDT")
    lines = [
        f"{result.symbol} {result.side}: {_money(result.margin)} USDT margin at "
        f"{result.leverage:g}x from {_money(result.entry_price)} "
        f"(notional {_money(result.notional_usdt)} USDT, {result.quantity:.6g} {base}); "
        f"wallet balance {_money(result.wallet_balance)} USDT",
    ]
    nb = result.neighbour
    if nb is not None:
        lines.append(
            f"neighbour (cross): {nb.symbol} {nb.side} {nb.quantity:g} from "
            f"{_money(nb.entry_price)} at {nb.leverage:g}x, mark {_money(nb.mark)}, "
            f"unrealized PnL {_money(result.neighbour_unrealized_pnl_usdt)} USDT"
        )
    table = [("", *(r.mode for r in result.results))]
    table += [(label, *(cell(r) for r in result.results)) for label, cell in _ROWS]
    label_width = max(len(row[0]) for row in table)
    widths = [max(len(row[i]) for row in table) for i in range(1, len(table[0]))]
    lines.append("")
    for row in table:
        cells = "  ".join(c.rjust(w) for c, w in zip(row[1:], widths, strict=True))
        lines.append(f"{row[0].ljust(label_width)}  {cells}".rstrip())
    lines.append("")
    for r in result.results:
        if math.isnan(r.liquidation_price):
            lines.append(f"{r.mode}: cannot be liquidated by price.")
        if r.liquidated_at_entry:
            gone = ", ".join(r.liquidated_at_entry)
            lines.append(
                f"{r.mode}: at these marks {gone} is liquidated on its own before "
                f"{result.symbol} moves; the loss above includes its "
                f"{_money(r.loss_at_entry_usdt)} USDT."
            )
    lines.append("Prices are mark prices in USDT; fees and funding are not included. " + DISCLAIMER)
    return "\n".join(lines)


# --------------------------------------------------------------------------- lessons
def _add_lessons(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lessons",
        help="make your own writable copy of the course",
        description="Work on a copy of the lessons; the originals stay pristine.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    copy = actions.add_parser(
        "copy",
        help="copy the lessons into DIR",
        description=(
            "Copy the course (notebooks, markdown, data files) into DIR. A non-empty DIR "
            "is refused unless --force, which overwrites the lessons in it with pristine "
            "copies (other files in DIR are left alone)."
        ),
    )
    copy.add_argument("dir", type=Path, metavar="DIR", help="folder to create or fill")
    copy.add_argument("--force", action="store_true", help="overwrite lessons already in DIR")
    copy.set_defaults(run=_run_lessons_copy, prog=copy.prog)


def _run_lessons_copy(args: argparse.Namespace) -> int:
    try:
        target = copy_lessons(args.dir, force=args.force)
    except (OSError, ValueError) as error:
        raise UsageError(str(error)) from None
    print(f"Copied the lessons into {target}")
    return 0


# ------------------------------------------------------------------------------- lab
def _add_lab(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lab",
        help="open JupyterLab on your copy of the lessons",
        description=(
            "Open JupyterLab on a writable copy of the lessons: DIR is created from the "
            "pristine course when missing, and kept as it is when present (your work is "
            "never overwritten). Serves on 127.0.0.1 only, unless --host says otherwise."
        ),
    )
    parser.add_argument(
        "--dir", type=Path, default=Path("my-lessons"),
        help="your copy of the lessons (default: ./%(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--host", default="127.0.0.1",
        help="address to serve on (default: %(default)s, this machine only); "
        "0.0.0.0 serves everyone who can reach this machine, e.g. a workshop room",
    )  # fmt: skip
    parser.add_argument(
        "--port", type=int,
        help=f"port; refused when taken (default: {DEFAULT_LAB_PORT}, or the next free one)",
    )  # fmt: skip
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    parser.add_argument(
        "--allow-root", action="store_true",
        help="let JupyterLab run as root (containers); it refuses otherwise",
    )  # fmt: skip
    parser.add_argument(
        "--dry-run", action="store_true", help="print the command instead of running it"
    )
    parser.set_defaults(run=_run_lab, prog=parser.prog)


def lab_command(
    root_dir: Path,
    host: str = "127.0.0.1",
    port: int | None = None,
    open_browser: bool = True,
    allow_root: bool = False,
) -> list[str]:
    """The JupyterLab command line, run with this Python, serving ``root_dir``."""
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.ip={host}",
        f"--ServerApp.root_dir={root_dir}",
    ]
    if port is not None:  # that port or none: JupyterLab would silently take another
        command += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if not open_browser:
        command.append("--ServerApp.open_browser=False")
    if allow_root:
        command.append("--ServerApp.allow_root=True")
    return command


def _run_lab(args: argparse.Namespace) -> int:
    if args.port is not None and not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, got {args.port}")
    root = args.dir.expanduser().resolve()
    port = args.port if args.dry_run else _lab_port(args.host, args.port)
    command = lab_command(root, args.host, port, not args.no_browser, args.allow_root)
    if args.host not in LOOPBACK_HOSTS:
        print(
            f"warning: serving on {args.host}: anyone who can reach this machine can open "
            "JupyterLab and run code as you if they get the token; share it only with "
            "the room",
            file=sys.stderr,
        )
    if args.dry_run:
        has_copy = root.is_dir() and any(root.iterdir())
        print(f"would {'keep your copy' if has_copy else 'copy the lessons into'} {root}")
        print(shlex.join(command))
        return 0
    if importlib.util.find_spec("jupyterlab") is None:
        raise UsageError("JupyterLab is not installed; pip install 'marginlab[lab]'")
    try:
        created = ensure_lessons_copy(root)
    except (OSError, ValueError) as error:
        raise UsageError(str(error)) from None
    print(f"{'Copied the lessons into' if created else 'Using your copy in'} {root}")
    sys.stdout.flush()
    if os.name == "posix":  # hand the terminal to JupyterLab (its Ctrl-C prompt works)
        os.execv(command[0], command)
    return subprocess.call(command)


def _lab_port(host: str, requested: int | None) -> int:
    """The port JupyterLab will use: the one asked for, refused when taken; else the
    default, or the next free one after it (said on stderr)."""
    from marginlab.serve import free_port_from, port_taken

    try:
        if requested is not None:
            if port_taken(host, requested):
                raise UsageError(
                    f"port {requested} on {host} is taken by another program (another "
                    "JupyterLab?); stop it, or choose another port with --port"
                )
            return requested
        port = free_port_from(host, DEFAULT_LAB_PORT)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if port != DEFAULT_LAB_PORT:
        print(f"port {DEFAULT_LAB_PORT} on {host} is taken; using port {port}", file=sys.stderr)
    return port


# --------------------------------------------------------------------------- present
def _add_present(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "present",
        help="serve the course with Voila for a projector (no code shown)",
        description=(
            "Serve the course, or one lesson, with Voila: no code shown, preheated kernels "
            "for a fast first chart, idle kernels culled, nothing fetched from the internet. "
            "Serves on 127.0.0.1 only, unless --host says otherwise. Served to a room, every "
            "learner needs the printed link (it holds the room's token) and the room has "
            "--learners seats: one kernel per open lesson page, preheated to fit. Ctrl-C, "
            "SIGTERM or SIGHUP stop Voila and every kernel."
        ),
    )
    parser.add_argument("lesson", nargs="?", help="a lesson name or number, e.g. 03")
    parser.add_argument("--dir", type=Path, help="the lessons folder (default: the course)")
    parser.add_argument(
        "--host", default="127.0.0.1",
        help="address to serve on (default: %(default)s); 0.0.0.0 serves a room",
    )  # fmt: skip
    parser.add_argument("--port", type=int, help="port; refused when taken (default: 8866)")
    parser.add_argument(
        "--learners", type=int, metavar="N",
        help="seats: at most N kernels at once, preheated to fit; one more visitor gets a "
        "'the room is full' page (default: 30 for a room, no limit on 127.0.0.1)",
    )  # fmt: skip
    parser.add_argument(
        "--token",
        help="the room's token, e.g. to keep a printed link valid across restarts "
        "(default: a new random one when serving a room; none on 127.0.0.1)",
    )  # fmt: skip
    parser.add_argument("--big-fonts", action="store_true", help="larger type for a projector")
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the command instead of running it"
    )
    parser.set_defaults(run=_run_present, prog=parser.prog)


def _run_present(args: argparse.Namespace) -> int:
    from marginlab.serve import present

    if args.port is not None and not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, got {args.port}")
    if args.learners is not None and args.learners < 1:
        raise UsageError(f"--learners must be 1 or more, got {args.learners}")
    if args.token is not None and not re.fullmatch(r"[A-Za-z0-9_-]{8,}", args.token):
        raise UsageError(
            "--token must be 8 or more letters, digits, '-' or '_' (it goes into a link)"
        )
    if not args.dry_run and importlib.util.find_spec("voila") is None:
        raise UsageError("Voila is not installed; pip install 'marginlab[lab]'")
    try:
        return present(
            args.lesson,
            directory=args.dir,
            host=args.host,
            port=args.port,
            big_fonts=args.big_fonts,
            open_browser=not args.no_browser,
            dry_run=args.dry_run,
            learners=args.learners,
            token=args.token,
        )
    except (OSError, ValueError) as error:
        raise UsageError(str(error)) from None


# -------------------------------------------------------------------------- hub-link
def _add_hub_link(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "hub-link",
        help="the link that gives each JupyterHub user their own copy of the lessons",
        description=(
            "Print an nbgitpuller link for the JupyterHub at URL: each user who opens it "
            "gets the course cloned into their home folder (a later visit merges new "
            "lessons and keeps their edits) and JupyterLab opens at lesson 00. The hub's "
            "user image needs nbgitpuller (see deploy/)."
        ),
    )
    parser.add_argument("url", metavar="URL", help="the hub, e.g. https://hub.example.org")
    parser.add_argument(
        "--repo",
        help="git URL the users' servers clone the course from (default: the package's "
        "repository URL, else this checkout's origin, else this checkout's path)",
    )
    parser.add_argument("--branch", help="branch to clone (default: the repository's own)")
    parser.add_argument(
        "--target", help="folder in each user's home (default: the repository's name)"
    )
    parser.set_defaults(run=_run_hub_link, prog=parser.prog)


def _run_hub_link(args: argparse.Namespace) -> int:
    from marginlab.hub import course_repository, first_lesson_path, nbgitpuller_link

    try:
        lesson = first_lesson_path()
        repo = args.repo
        if repo is None:
            found = course_repository()
            if found is None:
                raise UsageError("no course repository known: pass --repo GIT_URL")
            repo, how = found
            print(f"repository: {repo} ({how}; --repo to change)", file=sys.stderr)
        print(nbgitpuller_link(args.url, repo, lesson, branch=args.branch, target=args.target))
    except (OSError, ValueError) as error:
        raise UsageError(str(error)) from None
    return 0


# ------------------------------------------------------------------------------ main
_COMMANDS = (_add_calc, _add_lessons, _add_lab, _add_present, _add_hub_link)


def build_parser() -> argparse.ArgumentParser:
    """The ``marginlab`` parser with one subparser per command in ``_COMMANDS``."""
    parser = _Parser(
        prog="marginlab",
        description=f"marginlab: Cross vs Isolated margin, hands on. {DISCLAIMER}",
    )
    parser.add_argument("--version", action="version", version=f"marginlab {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in _COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``marginlab`` command; returns the exit code (0 ok, 2 bad input)."""
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
    except SystemExit as stop:  # --help, --version and argparse errors
        return stop.code if isinstance(stop.code, int) else 0
    if extras:  # reported by the subcommand's name, not the top-level one
        prog = args.prog
        print(f"{prog}: error: unrecognized arguments: {shlex.join(extras)}", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except UsageError as error:
        print(f"{args.prog}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
