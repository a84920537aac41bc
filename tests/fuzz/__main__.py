"""``python -m tests.fuzz``: fuzz the readers and report counts of each outcome.

``make fuzz`` runs 10,000 inputs per family and writes ``bench/FUZZ.md``; the
test suite runs a few hundred per family through ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.fuzz.harness import FAILURES, TIME_LIMIT_S, FamilyReport, run_family
from tests.fuzz.seeds import FAMILIES, seeds

ROOT = Path(__file__).resolve().parents[2]
OUTCOMES = ("read", "warned", "refused", *FAILURES)


def _report_dict(r: FamilyReport) -> dict:
    return {
        "family": r.family,
        "inputs": r.inputs,
        "outcomes": dict(r.outcomes),
        "by_seed": {k: dict(v) for k, v in r.by_seed.items()},
        "failures": r.failures,
        "slowest_s": r.slowest_s,
        "peak_rss": r.peak_rss,
        "peak_over_limit": r.peak_over_limit,
        "seconds": r.seconds,
    }


def _markdown(reports: list[dict], args: argparse.Namespace) -> str:
    lines = [
        "# Reader fuzzing (`make fuzz`)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M %Z')} · {platform.node()} · {platform.machine()}, "
        f"{os.cpu_count()} cores · Python {platform.python_version()} · seed {args.seed}",
        "",
        f"Every input is a seeded mutation of a small real file (or of one made from it), read by "
        f"`citytwin.io.registry.read` and summarised as `citytwin info` does, in a forked child limited to "
        f"{TIME_LIMIT_S:.0f} s and 1 GB + 10 × the input size. Replay input K of a family with "
        f"`python -m tests.fuzz --family F --seed {args.seed} --start K --n 1 --keep DIR`.",
        "",
        "| family | inputs | " + " | ".join(OUTCOMES) + " | slowest | peak RSS | peak / limit | run time |",
        "|---|---:|" + "---:|" * len(OUTCOMES) + "---:|---:|---:|---:|",
    ]
    for r in reports:
        o = Counter(r["outcomes"])
        lines.append(
            f"| {r['family']} | {r['inputs']:,} | "
            + " | ".join(f"{o[k]:,}" for k in OUTCOMES)
            + f" | {r['slowest_s']:.2f} s | {r['peak_rss'] / 2**20:.0f} MiB | {r['peak_over_limit']:.2f}"
            + f" | {r['seconds'] / 60:.1f} min |"
        )
    lines += ["", "Targets: at least 10,000 inputs per family; 0 of " + ", ".join(FAILURES) + "."]
    failures = [f | {"family": r["family"]} for r in reports for f in r["failures"]]
    if failures:
        lines += ["", "## Failures", ""]
        for f in failures[:50]:
            lines.append(
                f"- {f['family']} #{f['k']} ({f['seed']}, {f['mutation']}): {f['outcome']}: "
                + " ".join(str(f["detail"]).split())[:300]
            )
    lines += ["", "## Outcomes by seed", ""]
    for r in reports:
        for name, counts in r["by_seed"].items():
            lines.append(f"- {r['family']} · {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=FAMILIES, action="append", help="a family (default: all)")
    parser.add_argument("--n", type=int, default=200, help="inputs per family")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0, help="index of the first input")
    parser.add_argument(
        "--shared", type=Path, default=Path(os.environ.get("CITYTWIN_SHARED_DATA", ROOT.parent / "shared" / "data"))
    )
    parser.add_argument("--jobs", type=int, default=1, help="families run side by side")
    parser.add_argument("--keep", type=Path, help="save failing inputs in this folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object per family")
    parser.add_argument("--report", type=Path, help="write a Markdown report here")
    args = parser.parse_args(argv)
    families = args.family or list(FAMILIES)
    reports: list[dict] = []
    if args.jobs > 1 and len(families) > 1:
        running = []
        pending = list(families)
        while pending or running:
            while pending and len(running) < args.jobs:
                fam = pending.pop(0)
                cmd = [
                    sys.executable,
                    "-m",
                    "tests.fuzz",
                    "--family",
                    fam,
                    "--n",
                    str(args.n),
                    "--seed",
                    str(args.seed),
                    "--start",
                    str(args.start),
                    "--shared",
                    str(args.shared),
                    "--json",
                ]
                if args.keep:
                    cmd += ["--keep", str(args.keep)]
                running.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True))
            proc = running.pop(0)
            out, _ = proc.communicate()
            for line in out.splitlines():
                if line.startswith("{"):
                    reports.append(json.loads(line))
                    if args.json:
                        print(line, flush=True)
    else:
        for fam in families:
            try:
                family_seeds = seeds(fam, args.shared)
            except FileNotFoundError as exc:
                print(f"fuzz: {exc}", file=sys.stderr)
                return 2
            r = run_family(
                fam, family_seeds, args.n, args.seed, args.start, keep_failures=args.keep, progress=not args.json
            )
            reports.append(_report_dict(r))
            if args.json:
                print(json.dumps(reports[-1]), flush=True)
    if not args.json:
        for r in reports:
            o = Counter(r["outcomes"])
            print(
                f"{r['family']}: {r['inputs']} inputs: "
                + ", ".join(f"{k} {o[k]}" for k in OUTCOMES if o[k])
                + f"; slowest {r['slowest_s']:.2f} s, peak RSS {r['peak_rss'] / 2**20:.0f} MiB"
            )
            for f in r["failures"][:20]:
                print(
                    f"  #{f['k']} {f['seed']} {f['mutation']}: {f['outcome']}: "
                    + " ".join(str(f["detail"]).split())[-400:]
                )
    if args.report:
        args.report.write_text(_markdown(reports, args))
    return 1 if any(Counter(r["outcomes"])[k] for r in reports for k in FAILURES) else 0


if __name__ == "__main__":
    sys.exit(main())
