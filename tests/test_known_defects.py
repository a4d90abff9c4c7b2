"""Each known torch defect's reproducer: a strict xfail where the defect is listed as present,
a plain pass elsewhere. An unexpected pass means torch fixed it: update tests/known_defects.py."""

import subprocess
import sys

import pytest

from .known_defects import KNOWN_DEFECTS


@pytest.mark.parametrize("defect", KNOWN_DEFECTS, ids=lambda d: d.name)
def test_reproducer(request, defect):
    if defect.affects_this_torch():
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"{defect.summary}; {defect.link}"))
    result = subprocess.run([sys.executable, str(defect.reproducer)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{defect.name}: {result.stdout}{result.stderr}"
