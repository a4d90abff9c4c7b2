"""`conv2d-verify [pytest arguments]`: the installed suite against the installed torch, from any
folder (the same as `python -m pytest --pyargs conv2d_verify.suite -p no:cacheprovider ...`).
`conv2d-verify hunt [--minutes M --dtypes D --shards S ...]`: the time-boxed hunt (hunt.py)."""

from __future__ import annotations

import sys

import pytest


def main() -> int:
    if sys.argv[1:2] == ["hunt"]:
        from . import hunt  # noqa: PLC0415

        return hunt.main(sys.argv[2:])
    return int(pytest.main(["--pyargs", "conv2d_verify.suite", "-p", "no:cacheprovider", *sys.argv[1:]]))


if __name__ == "__main__":
    sys.exit(main())
