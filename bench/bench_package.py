"""Packaging: installed size, download size and cold start of the frozen Linux app.

Measured by ``make package-test`` (``packaging/package_test.py``), which builds the
bundle, unpacks the .deb and starts the frozen app; it writes its figures to
``bench/out/package.json`` and this benchmark's section into bench/RESULTS.md
(:func:`update_results`). ``make bench`` only reads that file back (building the
package takes minutes), and says so when there is none.

Targets: installed ≤ 700 MiB, .deb and .tar.xz each ≤ 180 MB, cold start of the
frozen app to the first frame of the sample district ≤ 3 s.

    python -m bench.bench_package       # prints the section from bench/out/package.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import ROOT, table, verdict

NAME = "package"
TITLE = "Packaging: installed size, download size and cold start of the Linux bundle"
FIGURES = ROOT / "bench" / "out" / "package.json"
INSTALLED_MIB = 700
DOWNLOAD_MB = 180
COLD_START_S = 3.0
_MIB = 1024 * 1024


def _size(n: int | None) -> str:
    return "—" if n is None else f"{n / _MIB:.0f} MiB ({n / 1e6:.0f} MB)"


def targets(fig: dict[str, Any]) -> list[dict[str, Any]]:
    """The three targets (four rows) from the figures ``package_test`` wrote.

    Parameters
    ----------
    fig
        The content of ``bench/out/package.json``.

    Returns
    -------
    list of dict
        ``target``, ``measured``, ``pass`` (``None`` when a figure is missing).
    """
    installed = fig.get("installed_bytes")
    cold = fig.get("cold_start_s") or {}
    first = cold.get("first")
    rows = [
        {
            "target": f"installed size (du of the unpacked .deb) ≤ {INSTALLED_MIB} MiB",
            "measured": _size(installed),
            "pass": None if installed is None else installed <= INSTALLED_MIB * _MIB,
        }
    ]
    for kind in ("deb", "tar.xz"):
        n = fig.get(f"{kind.replace('.', '_')}_bytes")
        rows.append(
            {
                "target": f"download: the .{kind} ≤ {DOWNLOAD_MB} MB",
                "measured": "—" if n is None else f"{n / 1e6:.0f} MB",
                "pass": None if n is None else n <= DOWNLOAD_MB * 1e6,
            }
        )
    rows.append(
        {
            "target": f"cold start of the frozen app to the first frame of the sample ≤ {COLD_START_S:.0f} s",
            "measured": "—"
            if first is None
            else f"{first:.2f} s first start, {cold.get('median', float('nan')):.2f} s median of "
            f"{len(cold.get('runs', []))} ({cold.get('cache', 'page cache as it was')})",
            "pass": None if first is None else first <= COLD_START_S,
        }
    )
    return rows


def markdown(fig: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The section's body: targets, the size of each part of the bundle, the checks that ran."""
    parts = sorted((fig.get("breakdown") or {}).items(), key=lambda kv: -kv[1])
    out = [
        table(["target", "measured", "result"], [[t["target"], t["measured"], verdict(t["pass"])] for t in rows]),
        "",
        f"citytwin {fig.get('version', '?')}, measured {fig.get('measured', '?')} by `make package-test` "
        f"on {fig.get('machine', '?')}. VTK modules kept: {fig.get('vtk_modules_kept', '?')} of "
        f"{fig.get('vtk_modules_available', '?')}. What the bundle is made of:",
        "",
        table(["part of /opt/citytwin/_internal", "size"], [[name, _size(n)] for name, n in parts]),
        "",
    ]
    checks = fig.get("checks") or []
    if checks:
        out += [
            table(
                ["check of the frozen app", "result"],
                [[c["name"], "PASS" if c["ok"] else f"**FAIL**: {c.get('detail', '')}"] for c in checks],
            ),
            "",
        ]
    cold = fig.get("cold_start_s") or {}
    if cold.get("runs"):
        out.append(
            "Cold start: `CITYTWIN_EXIT_AFTER_FIRST_FRAME=1 citytwin` under Xvfb (software OpenGL), from starting the "
            "process to the line the app prints at its first frame of the sample district; runs "
            + ", ".join(f"{s:.2f}" for s in cold["runs"])
            + " s; the app's own figure (from /proc) "
            + ", ".join(f"{s:.2f}" for s in cold.get("in_process", []))
            + " s."
        )
    return "\n".join(out)


def result(fig: dict[str, Any] | None) -> dict[str, Any]:
    """A ``bench.run_all`` result from the figures, or one that says they are missing."""
    if not fig:
        missing = "not measured: run `make package-test` (it builds the package)"
        rows = [{"target": "installed size, download size and cold start of the frozen app", "measured": missing,
                 "pass": None}]  # fmt: skip
        return {"name": NAME, "title": TITLE, "targets": rows, "markdown": rows[0]["measured"], "data": {}}
    rows = targets(fig)
    return {"name": NAME, "title": TITLE, "targets": rows, "markdown": markdown(fig, rows), "data": fig}


def load(path: Path = FIGURES) -> dict[str, Any] | None:
    """The figures ``make package-test`` wrote last, or ``None``."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def run(shared: Path | None = None, log=print, **_options: Any) -> dict[str, Any]:
    """``bench.run_all`` entry: reads ``bench/out/package.json``; builds nothing."""
    res = result(load())
    if not res["data"]:
        log(f"[package] {FIGURES.relative_to(ROOT)} is missing: run `make package-test` to measure the package")
    return res


def update_results(res: dict[str, Any], path: Path = ROOT / "bench" / "RESULTS.md") -> bool:
    """Replace this benchmark's summary rows and section in bench/RESULTS.md, leaving the rest as it is.

    Parameters
    ----------
    res
        :func:`result` of the new figures.
    path
        The results file; nothing is written when it does not exist.

    Returns
    -------
    bool
        Whether the file was written.
    """
    if not path.is_file():
        return False
    lines = path.read_text().splitlines()
    prefix = f"| {TITLE} |"
    new_rows = [f"| {TITLE} | {t['target']} | {t['measured']} | {verdict(t['pass'])} |" for t in res["targets"]]
    try:
        head = lines.index("## Summary")
        start = next(i for i in range(head + 1, len(lines)) if lines[i].startswith("|"))
    except (ValueError, StopIteration):
        return False
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    summary = [row for row in lines[start:end] if not row.startswith(prefix)] + new_rows
    lines[start:end] = summary
    section = [f"## {TITLE}", "", *res["markdown"].splitlines(), ""]
    if f"## {TITLE}" in lines:
        s = lines.index(f"## {TITLE}")
        e = next((i for i in range(s + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[s:e] = section
    else:
        if lines and lines[-1] != "":
            lines.append("")
        lines += section
    path.write_text("\n".join(lines).rstrip("\n") + "\n")
    return True


def main() -> int:
    """Print the section from the last figures."""
    res = run()
    print(res["markdown"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
