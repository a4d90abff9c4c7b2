"""`conv2d-verify [pytest arguments]`: the installed suite against the installed torch, from any
folder (the same as `python -m pytest --pyargs conv2d_verify.suite -p no:cacheprovider ...`)."""

from __future__ import annotations

import sys

import pytest


def main() -> int:
    return int(pytest.main(["--pyargs", "conv2d_verify.suite", "-p", "no:cacheprovider", *sys.argv[1:]]))


if __name__ == "__main__":
    sys.exit(main())
