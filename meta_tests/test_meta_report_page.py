"""The report page as a person sees it: summary.html opened in headless Chromium. A red run says
RED first, then what broke, with the reproducer as a code block; tables render as tables (no
markdown left in the page) and every plot loads. Needs Chromium and the playwright package
(`pip install -e '.[report-check]'`, Debian's chromium); skipped, saying so, without them."""

import shutil

import pytest

from conv2d_verify import report

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the browser check needs playwright: pip install playwright"
)
CHROMIUM = next(
    (path for name in ("chromium", "chromium-browser", "google-chrome") if (path := shutil.which(name))), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium on this machine (Debian: apt-get install chromium)"
)

CONFIG = {
    "in_channels": 3,
    "out_channels": 4,
    "kernel_size": 3,
    "stride": 1,
    "padding": 1,
    "dilation": 1,
    "groups": 1,
    "bias": True,
    "padding_mode": "zeros",
    "batch": 2,
    "height": 5,
    "width": 6,
}
EXECUTION = {"mkldnn": True, "nnpack": True, "threads": 1, "input_layout": "contiguous", "weight_layout": "contiguous"}
REPRODUCER = "import sys\nimport torch\nprint('the reproducer')\nsys.exit(1)\n"


def example(dtype: str, verdict: str, of_allowance: float) -> dict:
    return {
        "test": f"tests/test_forward.py::test_functional_matches_reference[{dtype}]",
        "api": "F.conv2d",
        "dtype": dtype,
        "backend": "Mkldnn",
        "kernels": ["jit:avx2"],
        "regime": "bounded",
        "config": CONFIG,
        "execution": EXECUTION,
        "worst_in_eps": 3 * of_allowance,
        "worst_of_allowance": of_allowance,
        "verdict": verdict,
    }


def run_files(folder, failed: bool):
    meta = {
        "torch": "2.13.0+cpu",
        "numpy": "2.4.6",
        "device": "cpu",
        "cpu_capability": "AVX2",
        "profile": "ci",
        "dtypes": ["float32", "bfloat16"],
        "threads": 1,
        "target": "torch.nn.functional:conv2d",
        "date": "2026-12-01",
        "python": "3.11.7",
        "wall_s": 12.0,
    }
    (folder / "repro.py").write_text(REPRODUCER)
    failing = "tests/test_forward.py::test_functional_matches_reference[bfloat16]"
    tests = {
        "tests/test_forward.py::test_functional_matches_reference[float32]": {"outcome": "passed", "duration_s": 1.0},
        failing: {"outcome": "failed" if failed else "passed", "duration_s": 2.0},
    }
    if failed:
        tests[failing]["failure"] = {
            "headline": "F.conv2d bfloat16 on cpu, backend Mkldnn disagrees",
            "worst": "Worst element at index (0, 1, 2, 3): got 8.0, expected 10.0",
            "repro": str(folder / "repro.py"),
            "config": "Conv2dConfig(...)",
        }
    worst = [
        {
            "api": "F.conv2d",
            "dtype": "float32",
            "backend": "Mkldnn",
            "regime": "bounded",
            "examples": 40,
            "worst_in_eps": 1.5,
            "worst_of_allowance": 0.2,
        }
    ]
    examples = [example("float32", "pass", 0.2) for _ in range(5)] + [
        example("bfloat16", "fail" if failed else "pass", 3.0)
    ]
    report.write(str(folder), meta, tests, worst, examples)
    return folder / "summary.html"


def seen(page_path):
    """What the page shows: its visible text, the code blocks, the table rows, each image's width."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            return {
                "text": page.inner_text("body"),
                "heading": page.inner_text("h1"),
                "code": [element.inner_text() for element in page.query_selector_all("pre code")],
                "tables": page.evaluate("[...document.querySelectorAll('table')].map(t => t.rows.length)"),
                "images": page.evaluate("[...document.images].map(i => i.complete ? i.naturalWidth : -1)"),
            }
        finally:
            browser.close()


def test_a_red_run_shows_what_broke_first_with_its_reproducer(tmp_path):
    page = seen(run_files(tmp_path, failed=True))
    assert page["heading"].startswith("RED: torch 2.13.0+cpu")
    text = page["text"]
    assert text.index("What broke") < text.index("Worst error per API")
    assert "Worst element at index (0, 1, 2, 3): got 8.0, expected 10.0" in text
    assert [code.strip() for code in page["code"]] == [REPRODUCER.strip()]
    assert "| ---" not in text and "|---" not in text  # tables are tables, not markdown
    assert len(page["tables"]) >= 3 and all(rows >= 2 for rows in page["tables"])
    assert len(page["images"]) == 3 and all(width > 0 for width in page["images"])


def test_a_green_run_says_so_and_has_nothing_broken(tmp_path):
    page = seen(run_files(tmp_path, failed=False))
    assert page["heading"].startswith("GREEN")
    assert "What broke" not in page["text"] and page["code"] == []
