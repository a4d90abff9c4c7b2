"""The suite's hooks and options live in the conv2d_verify plugin (conv2d_verify/plugin.py),
loaded through its pytest11 entry point. This file only keeps generated and non-suite folders out
of a run that collects the whole checkout: one where pytest did not find pyproject.toml, as when
an option's value outside the checkout (`--report-dir /tmp/run`) was taken for a test path while
pytest chose its root directory."""

collect_ignore = ["reports", "benchmarks", "tools", "build"]
