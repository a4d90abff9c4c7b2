"""An upstream-ready bug report for a known defect, from what runs here, not from memory:

    python tools/upstream_report.py <defect name> [python interpreters to bisect with ...]

writes reports/upstream/<name>.md: a title, the environment as `python -m torch.utils.collect_env`
prints it, the minimal reproducer (tests/defects/<name>.py) and what it printed, the oneDNN kernel
lines it logged, and the torch versions it was run on (each interpreter given, e.g. the tox envs'
.tox/torch*/bin/python) with the verdict on each.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conv2d_verify.known_defects import KNOWN_DEFECTS  # noqa: E402


def run_reproducer(python: str, script: Path) -> tuple[int, str, list[str]]:
    """(exit code, what it printed, the oneDNN convolution lines it logged)."""
    done = subprocess.run(
        [python, str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "ONEDNN_VERBOSE": "1"},
    )
    lines = (done.stdout + done.stderr).splitlines()
    kernels = [line for line in lines if ",convolution," in line and ",exec," in line]
    said = [line for line in lines if "_verbose," not in line]
    return done.returncode, "\n".join(said), kernels


def torch_version(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True
    ).stdout.strip()


def main(name: str, pythons: list[str]) -> Path:
    defect = next(d for d in KNOWN_DEFECTS if d.name == name)
    script = ROOT / "tests" / "defects" / f"{name}.py"
    code, said, kernels = run_reproducer(sys.executable, script)
    environment = subprocess.run(
        [sys.executable, "-m", "torch.utils.collect_env"], capture_output=True, text=True
    ).stdout.strip()
    versions = []
    for python in pythons or [sys.executable]:
        exit_code, output, _ = run_reproducer(python, script)
        verdict = {0: "right", 1: "wrong"}.get(exit_code, f"crashed or failed (exit {exit_code})")
        versions.append(f"| {torch_version(python)} | {verdict} | {output.splitlines()[-1] if output else ''} |")
    title = re.sub(r"\s*\([^()]*\)", "", defect.summary).split(": ")[0]
    text = "\n".join(
        [
            f"# {title[0].upper()}{title[1:]}",
            "",
            defect.summary[0].upper() + defect.summary[1:] + ".",
            "",
            "## Reproducer",
            "",
            "```python",
            script.read_text().rstrip(),
            "```",
            "",
            f"## Expected vs got (exit {code}: {'wrong' if code == 1 else 'right' if code == 0 else 'crashed'})",
            "",
            "```",
            said.strip() or "(nothing printed)",
            "```",
            "",
            "oneDNN's verbose log (ONEDNN_VERBOSE=1), the convolutions it ran:",
            "",
            "```",
            *(kernels or ["(no oneDNN convolution ran)"]),
            "```",
            "",
            "## Versions checked",
            "",
            "| torch | verdict | the reproducer's last line |",
            "| --- | --- | --- |",
            *versions,
            "",
            "## Environment (python -m torch.utils.collect_env)",
            "",
            "```",
            environment,
            "```",
            "",
        ]
    )
    out = ROOT / "reports" / "upstream" / f"{name}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return out


if __name__ == "__main__":
    print(main(sys.argv[1], sys.argv[2:]))
