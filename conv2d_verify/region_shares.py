"""How fairly the differential tests' draws reach each region: the share of each test's examples
that landed in each boundary region, channel width and memory layout, from the events the suite
counted while the examples ran (records.TestStatistics). The goal is 5% or more of every test's
examples in every region; the report says where it is missed."""

from __future__ import annotations

from statistics import median

from .execution import LAYOUTS, WEIGHT_LAYOUTS
from .hunt import DIFFERENTIAL_MODULES
from .strategies import CHANNEL_FOCI

FAIR_SHARE = 0.05
DRAWN_REGIONS = (
    *CHANNEL_FOCI[2:],
    *(f"input layout={name}" for name in LAYOUTS if name != "contiguous"),
    *(f"weight layout={name}" for name in WEIGHT_LAYOUTS if name != "contiguous"),
)
# a boundary focus whose region the configuration counts under another name
FOCUS_REGION = {"output_padding": "output_padding > 0"}


def regions_of(events: dict) -> list[str]:
    """The regions a test's draws aim at: the boundary foci it drew (conv2d's or a family op's),
    the wide channel counts and the layouts."""
    foci = {name.removeprefix("focus: ").rsplit(", ", 1)[0] for name in events if name.startswith("focus: ")}
    boundary = [FOCUS_REGION.get(focus, focus) for focus in sorted(foci - {"anywhere"})]
    return [*boundary, *DRAWN_REGIONS]


def shares(tests: dict[str, dict]) -> dict[str, dict[str, float]]:
    """test node id -> region -> share of its examples, for the tests that draw focused cases."""
    found = {}
    for nodeid, test in tests.items():
        events = (test.get("statistics") or {}).get("events") or {}
        module = nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        # the special-value tests draw focused cases too, but not the layouts
        if module not in DIFFERENTIAL_MODULES or not any(name.startswith("focus: ") for name in events):
            continue
        drawn = events.get("batched", 0) + events.get("unbatched", 0)
        if drawn:
            found[nodeid] = {region: events.get(region, 0) / of(region, events, drawn) for region in regions_of(events)}
    return found


def of(region: str, events: dict, drawn: int) -> int:
    """The examples a region's share is of: those drawn, or for a layout those that ran (layouts
    are counted as torch runs the call)."""
    if "layout=" not in region:
        return drawn
    side = region.split("=")[0] + "="
    return max(1, sum(n for name, n in events.items() if name.startswith(side)))


def share_table(tests: dict[str, dict]) -> tuple[str, list[str], list[list[str]]] | None:
    found = shares(tests)
    if not found:
        return None
    rows = []
    every_region = dict.fromkeys(region for share in found.values() for region in share)
    for region in every_region:
        by_test = {nodeid: share[region] for nodeid, share in found.items() if region in share}
        lowest = min(by_test, key=by_test.get)
        under = sorted(nodeid.split("::")[-1] for nodeid, share in by_test.items() if share < FAIR_SHARE)
        rows.append(
            [
                region,
                f"{by_test[lowest]:.0%} ({lowest.split('::')[-1]})",
                f"{median(by_test.values()):.0%}",
                ", ".join(under) or "none",
            ]
        )
    missed = sum(1 for row in rows if row[3] != "none")
    title = f"Regions' share of the {len(found)} differential tests' examples: " + (
        "every region at 5% or more in every test" if not missed else f"{missed} regions under 5% somewhere"
    )
    return title, ["region", "lowest share (test)", "median share", "tests under 5%"], rows
