"""Run mutated inputs through citytwin's readers, each in a forked child with a time and memory limit.

Every input goes through :func:`citytwin.io.registry.read` (reader choice
included) and the model's ``summary()`` (what ``citytwin info`` prints), in a
child process forked for it, so a hang or a runaway allocation is caught,
measured and killed without harming the run. The outcome of each input is one
of:

``read``, ``warned``
    A model came back (with warnings for ``warned``).
``refused``
    A :class:`~citytwin.errors.ReaderError` of one sentence.
``wrapped``
    The registry's catch-all ReaderError around an exception the reader did not
    expect (``… could not be read (KeyError: …)``): one sentence for the user, but
    a reader bug (a failure).
``bad-message``
    A ReaderError whose text is not one short sentence (a failure).
``traceback``
    Any other exception (a failure).
``timeout``
    Over the time limit (a failure).
``memory``
    A MemoryError, or a peak RSS over ``1 GB + 10 × the input size`` (a failure).
``crash``
    The child died of a signal (a failure).
"""

from __future__ import annotations

import json
import os
import random
import resource
import select
import signal
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz.mutate import mutate
from tests.fuzz.seeds import Seed

FAILURES = ("wrapped", "bad-message", "traceback", "timeout", "memory", "crash")
TIME_LIMIT_S = 10.0
MEMORY_BASE = 1 << 30  # 1 GB, plus 10 × the input size


@dataclass
class Result:
    """What one input did."""

    outcome: str
    seconds: float
    peak_rss: int  # bytes, of the child (its fork-time pages included)
    size: int
    detail: str = ""


def _child(path: Path, seed: Seed, out_fd: int, memory_limit: int) -> None:
    """Read one input and write a JSON line saying how it went; never returns."""
    code = 0
    try:
        soft = memory_limit + _vm_size()  # address space on top of what the fork inherited
        resource.setrlimit(resource.RLIMIT_AS, (soft, soft))
        from citytwin.errors import ReaderError
        from citytwin.io.registry import read

        try:
            model = read(path, seed.options)
            model.summary()
            warnings = list(getattr(model, "warnings", []) or [])
            report = {"outcome": "warned" if warnings else "read", "detail": " | ".join(warnings)[:500]}
        except ReaderError as exc:
            text = str(exc)
            one = "\n" not in text and 0 < len(text) <= 500 and "Traceback" not in text
            report = {"outcome": "refused" if one else "bad-message", "detail": text[:800]}
            if _wrapped(exc):  # the registry's catch-all: a reader bug behind a generic sentence
                tb = "".join(traceback.format_exception(exc.__cause__))
                report = {"outcome": "wrapped", "detail": f"{text[:300]} <- {tb[-2500:]}"}
        except MemoryError:
            report = {"outcome": "memory", "detail": "MemoryError: " + traceback.format_exc()[-1500:]}
        except RecursionError:
            report = {"outcome": "traceback", "detail": "RecursionError: " + traceback.format_exc()[-1500:]}
        except BaseException:  # noqa: BLE001 - any escape is the defect this harness looks for
            report = {"outcome": "traceback", "detail": traceback.format_exc()[-3000:]}
        os.write(out_fd, json.dumps(report).encode() + b"\n")
    except BaseException:  # noqa: BLE001
        code = 3
    finally:
        os._exit(code)


def _wrapped(exc: BaseException) -> bool:
    """True for the registry's catch-all sentence around an exception a reader did not expect."""
    cause = exc.__cause__
    return cause is not None and not type(cause).__module__.startswith("citytwin") and "could not be read (" in str(exc)


def _vm_size() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_one(seed: Seed, data: bytes, workdir: Path, time_limit: float = TIME_LIMIT_S) -> Result:
    """Read ``data`` (saved with the seed's suffix) in a forked child; kill it at ``time_limit``."""
    path = workdir / ("input" + seed.suffix)
    path.write_bytes(data)
    memory_limit = MEMORY_BASE + 10 * len(data)
    r, w = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        _child(path, seed, w, memory_limit)
    os.close(w)
    chunks: list[bytes] = []
    timed_out = False
    deadline = start + time_limit
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([r], [], [], min(left, 0.5))
        if ready:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    os.close(r)
    peak = int(usage.ru_maxrss) * 1024
    if timed_out:
        return Result("timeout", seconds, peak, len(data), f"over {time_limit:.0f} s")
    if os.WIFSIGNALED(status):
        return Result("crash", seconds, peak, len(data), f"signal {os.WTERMSIG(status)}")
    try:
        report = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        report = {}
    outcome = report.get("outcome", "crash")
    detail = report.get("detail", f"exit status {os.waitstatus_to_exitcode(status)}")
    if outcome not in FAILURES and peak > memory_limit:
        outcome, detail = "memory", f"peak RSS {peak / 2**20:.0f} MiB over the limit {memory_limit / 2**20:.0f} MiB"
    return Result(outcome, seconds, peak, len(data), detail)


def warm_up(seeds: list[Seed], workdir: Path) -> None:
    """Import every reader the seeds need here, so the forked children start with them imported; check the seeds.

    Nothing is *read* in this process: a reader that starts worker threads (lazrs's
    parallel decompressor) would leave its pool behind in the parent, and a
    forked child waits for ever on threads that fork did not copy. Each seed is
    read once in a child instead, and must read cleanly.

    Raises
    ------
    AssertionError
        If a seed does not read cleanly (a fuzz run from a broken start would mean little).
    """
    from citytwin.io.registry import pick_reader

    for s in seeds:
        path = workdir / ("seed" + s.suffix)
        path.write_bytes(s.data)
        pick_reader(path).load()
    import laspy  # noqa: F401 - what the readers import on first use
    import pyproj  # noqa: F401
    import trimesh  # noqa: F401

    for s in seeds:
        res = run_one(s, s.data, workdir)
        assert res.outcome in ("read", "warned"), f"seed {s.name} does not read cleanly: {res.outcome} {res.detail}"


@dataclass
class FamilyReport:
    """Counts of each outcome over a run, with the failing inputs kept for replay."""

    family: str
    inputs: int
    outcomes: Counter
    by_seed: dict[str, Counter]
    failures: list[dict]
    slowest_s: float
    peak_rss: int
    peak_over_limit: float  # the largest peak RSS as a share of its input's limit
    seconds: float

    @property
    def failed(self) -> int:
        return sum(self.outcomes[k] for k in FAILURES)


def run_family(
    family: str,
    seeds: list[Seed],
    n: int,
    seed: int = 0,
    start: int = 0,
    time_limit: float = TIME_LIMIT_S,
    keep_failures: Path | None = None,
    progress: bool = False,
) -> FamilyReport:
    """Run inputs ``start … start + n - 1`` of a family; input ``k`` is fully determined by ``(seed, k)``.

    Input ``k`` mutates seed ``k % len(seeds)`` with ``random.Random(f"{family}:{seed}:{k}")``.
    Failing inputs are saved in ``keep_failures`` (when given) as ``FAMILY-SEED-K.SUFFIX``.
    """
    outcomes: Counter = Counter()
    by_seed: dict[str, Counter] = {s.name: Counter() for s in seeds}
    failures: list[dict] = []
    slowest = 0.0
    peak = 0
    ratio = 0.0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"citytwin-fuzz-{family}-") as tmp:
        workdir = Path(tmp)
        warm_up(seeds, workdir)
        for k in range(start, start + n):
            s = seeds[k % len(seeds)]
            rng = random.Random(f"{family}:{seed}:{k}")
            data, how = mutate(s.data, s.mutators, rng)
            res = run_one(s, data, workdir, time_limit)
            outcomes[res.outcome] += 1
            by_seed[s.name][res.outcome] += 1
            slowest = max(slowest, res.seconds)
            peak = max(peak, res.peak_rss)
            ratio = max(ratio, res.peak_rss / (MEMORY_BASE + 10 * res.size))
            if res.outcome in FAILURES:
                entry = {
                    "k": k,
                    "seed": s.name,
                    "mutation": how,
                    "outcome": res.outcome,
                    "seconds": round(res.seconds, 2),
                    "detail": res.detail,
                }
                if keep_failures is not None:
                    keep_failures.mkdir(parents=True, exist_ok=True)
                    saved = keep_failures / f"{family}-{seed}-{k}{s.suffix}"
                    saved.write_bytes(data)
                    entry["saved"] = str(saved)
                failures.append(entry)
            if progress and (k - start + 1) % 500 == 0:
                print(f"  {family}: {k - start + 1}/{n} {dict(outcomes)}", flush=True)
    return FamilyReport(family, n, outcomes, by_seed, failures, slowest, peak, ratio, time.perf_counter() - t0)
