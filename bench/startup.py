"""How much slower than `import typer` is paycli's startup? (target: ratio <= 1.5)

Every paycli run pays for Python, typer and paycli's own modules before doing anything; `--help` and
`--version` must stay close to the cost of typer alone, which is why braintree, yaml and rich.console are
imported lazily. The baseline is measured in the same run on the same machine, so the ratio is
comparable across machines. Bytecode writing is allowed (and warmed up first) because an installed
paycli has its .pyc files; without them every run would measure the compiler.

    python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

TARGET_RATIO = 1.5


def median_ms(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    for _ in range(2):  # warm the page cache and write .pyc files
        subprocess.run(cmd, env=env, capture_output=True, check=True)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env.update(NO_COLOR="1", COLUMNS="100")
    python = sys.executable
    cases = {
        "python -m paycli --help": [python, "-m", "paycli", "--help"],
        "python -m paycli --version": [python, "-m", "paycli", "--version"],
    }
    script = shutil.which("paycli")
    if script:
        cases["paycli --help"] = [script, "--help"]
        cases["paycli --version"] = [script, "--version"]

    baseline = median_ms([python, "-c", "import typer"], args.runs, env)
    label = 'baseline: python -c "import typer"'
    print(f"{label:<40} {baseline:8.1f} ms")
    worst = 0.0
    for name, cmd in cases.items():
        elapsed = median_ms(cmd, args.runs, env)
        ratio = elapsed / baseline
        worst = max(worst, ratio)
        print(f"{name:<40} {elapsed:8.1f} ms   ratio {ratio:5.2f}")
    verdict = "ok" if worst <= TARGET_RATIO else "OVER TARGET"
    print(f"worst ratio {worst:.2f} (target <= {TARGET_RATIO}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
