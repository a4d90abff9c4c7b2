"""The README's defaults are the code's defaults."""

import re
from pathlib import Path

import pytest
from hypothesis import settings

from conv2d_verify.settings import from_environment

README_PATH = Path(__file__).parent.parent / "README.md"
README = README_PATH.read_text() if README_PATH.exists() else ""


def table_rows(first_cell_pattern: str) -> list[list[str]]:
    rows = []
    for line in README.splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(first_cell_pattern, cells[0]):
            rows.append(cells)
    return rows


def test_knob_defaults_match(monkeypatch):
    rows = {env: default for _, env, default, _ in table_rows(r"--[a-z][a-z-]*")}
    for env in rows:
        monkeypatch.delenv(env, raising=False)
    defaults = from_environment()
    in_code = {
        "CONV2D_PROFILE": defaults.profile,
        "CONV2D_DTYPES": ",".join(defaults.dtypes),
        "CONV2D_THREADS": str(defaults.threads),
        "CONV2D_REPORT_DIR": defaults.report_dir,
        "CONV2D_DEVICE": defaults.device,
        "CONV2D_TARGET": defaults.target,
    }
    assert rows == in_code


@pytest.mark.parametrize("profile", ["dev", "ci", "nightly", "hunt"])
def test_profile_example_counts_match(profile):
    rows = {name: int(count) for name, count, _ in table_rows(r"dev|ci|nightly|hunt")}
    assert rows[profile] == settings.get_profile(profile).max_examples
