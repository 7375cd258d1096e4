"""How much slower than `import typer` is paycli's startup? (target: ratio <= 1.5)

Every paycli run pays for Python, typer and paycli's own modules before doing anything; `--help` and
`--version` must stay close to the cost of typer alone, which is why braintree, yaml and rich.console are
imported lazily. The baseline is measured in the same run on the same machine, so the ratio is
comparable across machines. Bytecode writing is allowed (and warmed up first) because an installed
paycli has its .pyc files; without them every run would measure the compiler.

    python bench/startup.py [--runs 21]
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


def run_ms(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, capture_output=True, check=True)
    return (time.perf_counter() - started) * 1000


def paired(cmd: list[str], baseline: list[str], runs: int, env: dict[str, str]) -> tuple[float, float, float]:
    """Median times of `cmd` and of the baseline, and the median of per-pair ratios.

    Each run of the command is paired with a run of the baseline right before it, so a burst of load on a
    shared machine hits both sides of a pair instead of skewing one whole series.
    """
    for _ in range(2):  # warm the page cache and write .pyc files
        run_ms(cmd, env)
        run_ms(baseline, env)
    pairs = []
    for _ in range(runs):
        base = run_ms(baseline, env)
        pairs.append((run_ms(cmd, env), base))
    return (
        statistics.median(p[0] for p in pairs),
        statistics.median(p[1] for p in pairs),
        statistics.median(p[0] / p[1] for p in pairs),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
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

    baseline = [python, "-c", "import typer"]
    print(f"{'command':<32} {'ms':>8} {'typer ms':>9}  ratio (median of paired runs)")
    worst = 0.0
    for name, cmd in cases.items():
        elapsed, base, ratio = paired(cmd, baseline, args.runs, env)
        worst = max(worst, ratio)
        print(f"{name:<32} {elapsed:8.1f} {base:9.1f}  {ratio:5.2f}")
    verdict = "ok" if worst <= TARGET_RATIO else "OVER TARGET"
    print(f"worst ratio {worst:.2f} (target <= {TARGET_RATIO}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
