"""paycli's command line: Typer commands only, one module per command group.

Command modules deliberately do without `from __future__ import annotations`: Typer reads every command's
signature on each start, and string annotations made it compile and evaluate ~230 of them, about 40 ms of
every `paycli --help` (bench/startup.py).
"""
