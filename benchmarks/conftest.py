import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # bench_cases and friends, as the scripts see them
