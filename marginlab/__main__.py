"""``python -m marginlab``: the ``marginlab`` command, without its console script."""

from marginlab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
