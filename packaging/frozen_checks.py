"""The checks ``packaging/package_test.py`` runs on the unpacked .deb and the frozen app.

Each check returns a short note on success and raises :class:`CheckFailed` with one
sentence otherwise. The frozen app is compared with the source checkout
(``python -m citytwin`` of the Python running this), given the same files.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: The MIME type each kind of file must get on the desktop.
EXPECTED_TYPES = {
    "Haus.gml": "application/gml+xml",
    "district.city.json": "application/city+json",
    "district.city.jsonl": "application/city+json-seq",
    "cloud.las": "application/vnd.las",
    "cloud.laz": "application/vnd.laszip",
    "work.citytwin": "application/x-citytwin-project",
}
#: Libraries the bundle may miss on a machine without a Wayland session (the .deb recommends them).
OPTIONAL_LIBRARIES = re.compile(r"^libwayland-(client|cursor|egl)\.so")
#: glibc's own libraries: never bundled (they must match the system's libc).
GLIBC = re.compile(
    r"^(libc|libm|libmvec|libdl|librt|libpthread|libresolv|libutil|ld-linux[-a-z0-9_]*|libstdc\+\+|libgcc_s)\.so"
)
#: Keys of ``info --json`` that may differ between two runs.
_VOLATILE = re.compile(r"time|seconds|elapsed|duration", re.IGNORECASE)
_FIRST_FRAME = re.compile(r"first frame after ([0-9.]+) s")


class CheckFailed(RuntimeError):
    """A check did not pass; the message says why in one sentence."""


def disk_usage(path: Path) -> int:
    """Bytes of disk the tree takes, as ``du`` counts them (blocks, each inode once, links not followed)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        st = p.lstat()
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def apparent_size(path: Path) -> int:
    """The summed sizes of the regular files in the tree."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _run(cmd: list[str], timeout: float = 180, **kw: Any) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"{Path(cmd[0]).name} {' '.join(cmd[1:3])} did not finish within {timeout:.0f} s.") from None


def _tail(p: subprocess.CompletedProcess) -> str:
    return " | ".join((p.stderr or p.stdout or "").strip().splitlines()[-3:])


# ------------------------------------------------------------------------------------------ the .deb itself
def check_control(deb: Path, ci_run: Path) -> str:
    """The control file names the package, version, architecture and every library .ci/run installs for Qt."""
    fields = _run(["dpkg-deb", "-f", str(deb)]).stdout
    depends = re.search(r"^Depends: (.*)$", fields, re.MULTILINE)
    if not depends:
        raise CheckFailed(f"{deb.name} has no Depends field.")
    declared = {re.split(r"[\s(|]", d.strip())[0] for d in re.split(r"[,|]", depends.group(1))}
    listed = re.search(r"apt_packages=\((.*?)\)", ci_run.read_text(), re.DOTALL)
    wanted = set(listed.group(1).split()) - {"xvfb", "xauth"} if listed else set()
    missing = sorted(wanted - declared)
    if missing:
        raise CheckFailed(f"Depends lacks {', '.join(missing)}, which .ci/run installs for Qt and OpenGL.")
    if "libc6" not in declared:
        raise CheckFailed("Depends does not name the oldest libc6 the bundle runs on.")
    libc = re.search(r"libc6 \(>= [0-9.]+\)", depends.group(1))
    return f"{len(declared)} packages, {libc.group(0) if libc else 'libc6'}"


def check_layout(root: Path) -> str:
    """The bundle in /opt/citytwin, the /usr/bin link, desktop entry, MIME types, icons, licence, scripts."""
    program = root / "opt" / "citytwin" / "citytwin"
    if not (program.is_file() and os.access(program, os.X_OK)):
        raise CheckFailed("/opt/citytwin/citytwin is missing or not executable.")
    link = root / "usr" / "bin" / "citytwin"
    if not link.is_symlink() or os.readlink(link) != "/opt/citytwin/citytwin":
        raise CheckFailed("/usr/bin/citytwin is not a link to /opt/citytwin/citytwin.")
    share = root / "usr" / "share"
    for rel in ("applications/citytwin.desktop", "mime/packages/citytwin.xml", "doc/citytwin/copyright",
                "icons/hicolor/256x256/apps/citytwin.png", "icons/hicolor/scalable/apps/citytwin.svg"):  # fmt: skip
        if not (share / rel).is_file():
            raise CheckFailed(f"/usr/share/{rel} is missing.")
    return "all present"


def check_scripts(deb: Path, work: Path) -> str:
    """postinst and postrm are executable and refresh the desktop and MIME databases."""
    control = work / "control"
    _run(["dpkg-deb", "-e", str(deb), str(control)])
    for name in ("postinst", "postrm"):
        script = control / name
        if not (script.is_file() and os.access(script, os.X_OK)):
            raise CheckFailed(f"{name} is missing from the package or not executable.")
        text = script.read_text()
        if "update-mime-database" not in text or "update-desktop-database" not in text:
            raise CheckFailed(f"{name} does not refresh the MIME and desktop databases.")
    return "postinst, postrm"


def check_desktop(root: Path) -> str:
    """desktop-file-validate (when installed) passes and MimeType names every type citytwin registers."""
    entry = root / "usr" / "share" / "applications" / "citytwin.desktop"
    note = "desktop-file-validate not installed; fields checked"
    if shutil.which("desktop-file-validate"):
        p = _run(["desktop-file-validate", str(entry)])
        if p.returncode != 0:
            raise CheckFailed(f"desktop-file-validate rejects the entry: {_tail(p)}")
        note = "desktop-file-validate passes"
    fields = dict(line.split("=", 1) for line in entry.read_text().splitlines() if "=" in line)
    types = set(fields.get("MimeType", "").strip(";").split(";"))
    missing = sorted(set(EXPECTED_TYPES.values()) - types)
    if missing:
        raise CheckFailed(f"the desktop entry's MimeType lacks {', '.join(missing)}.")
    if not fields.get("Exec", "").startswith("citytwin ") or "%F" not in fields.get("Exec", ""):
        raise CheckFailed("the desktop entry's Exec is not 'citytwin %F', so opened files would not reach it.")
    return note


def _glob_type(globs2: list[tuple[int, str, str]], filename: str) -> str | None:
    """The shared-mime-info answer for a file name: highest weight first, then the longest pattern."""
    hits = [(w, len(pat), t) for w, t, pat in globs2 if fnmatch.fnmatchcase(filename.lower(), pat.lower())]
    return max(hits)[2] if hits else None


def check_mime(root: Path, work: Path) -> str:
    """With the system's freedesktop types beside citytwin's, each kind of file gets citytwin's type."""
    if not shutil.which("update-mime-database"):
        raise CheckFailed("update-mime-database (shared-mime-info) is not installed, so the types cannot be checked.")
    packages = work / "packages"
    packages.mkdir(parents=True)
    shutil.copy2(root / "usr" / "share" / "mime" / "packages" / "citytwin.xml", packages / "citytwin.xml")
    system = Path("/usr/share/mime/packages/freedesktop.org.xml")
    if system.is_file():
        shutil.copy2(system, packages / system.name)
    p = _run(["update-mime-database", str(work)])
    if p.returncode != 0 or "error" in (p.stderr or "").lower():
        raise CheckFailed(f"update-mime-database rejects citytwin-mime.xml: {_tail(p)}")
    globs2 = []
    for line in (work / "globs2").read_text().splitlines():
        if line and not line.startswith("#"):
            weight, mime, pattern = line.split(":")[:3]
            globs2.append((int(weight), mime, pattern))
    wrong = [f"{f} → {_glob_type(globs2, f)}" for f, t in EXPECTED_TYPES.items() if _glob_type(globs2, f) != t]
    if wrong:
        raise CheckFailed(f"files would open as the wrong type: {', '.join(wrong)}.")
    against = "beside the system's freedesktop types" if system.is_file() else "alone"
    return f"{len(EXPECTED_TYPES)} kinds of file, citytwin's types checked {against}"


def check_libraries(bundle: Path) -> str:
    """No C or C++ runtime is bundled, and ``ldd`` finds every library of every program, module and library."""
    env = {**os.environ, "LD_LIBRARY_PATH": str(bundle / "_internal")}
    missing: dict[str, set[str]] = {}
    count = 0
    for path in bundle.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as f:
            if f.read(4) != b"\x7fELF":
                continue
        count += 1
        out = _run(["ldd", str(path)], env=env).stdout
        for lib in re.findall(r"^\s*(\S+) => not found", out, re.MULTILINE):
            missing.setdefault(lib, set()).add(str(path.relative_to(bundle)))
    glibc = sorted(p.name for p in (bundle / "_internal").iterdir() if GLIBC.match(p.name))
    if glibc:
        raise CheckFailed(f"the bundle carries {', '.join(glibc)}, which must come from the system (trim.SYSTEM_ONLY).")
    hard = {lib: users for lib, users in missing.items() if not OPTIONAL_LIBRARIES.match(lib)}
    if hard:
        lib, users = sorted(hard.items())[0]
        raise CheckFailed(
            f"{len(hard)} libraries are neither bundled nor on this system, e.g. {lib} (needed by "
            f"{sorted(users)[0]}); declare them in Depends or bundle them."
        )
    soft = ", ".join(sorted(missing)) or "none"
    return f"{count} binaries; missing only what the .deb recommends for Wayland: {soft}"


# ------------------------------------------------------------------------------------------ the frozen app
def _image(path: Path):
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def not_blank(path: Path) -> float:
    """The share of pixels that differ clearly from the background (the mean of the four corners)."""
    import numpy as np

    img = _image(path)
    corners = np.array([img[0, 0], img[0, -1], img[-1, 0], img[-1, -1]]).mean(axis=0)
    return float((np.abs(img - corners).sum(axis=2) > 40).mean())


def _isolated_env(work: Path, headless: bool = False, **extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    for name in ("CONFIG", "CACHE", "DATA", "STATE"):
        env[f"XDG_{name}_HOME"] = str(work / "home" / name.lower())
    env["CITYTWIN_STATE_DIR"] = str(work / "home" / "citytwin-state")
    if headless:
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
    return env


def _strip_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_volatile(v) for k, v in value.items() if not _VOLATILE.search(k)}
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    return value


def make_project(path: Path, data: Path) -> Path:
    """A small .citytwin project holding ``data`` and one pin, written by the source checkout."""
    code = (
        "import sys; from citytwin.model.project import Project; p = Project(); s = p.add_source(sys.argv[1]); "
        "p.add_pin((0.0, 0.0, 0.0), 'Here', source=s.id); p.save(sys.argv[2])"
    )
    p = _run([sys.executable, "-c", code, str(data), str(path)], cwd=ROOT)
    if p.returncode != 0:
        raise CheckFailed(f"the source checkout could not write a test project: {_tail(p)}")
    return path


class FrozenApp:
    """The unpacked frozen ``citytwin`` program, compared with the source checkout's ``python -m citytwin``."""

    def __init__(self, program: Path, work: Path) -> None:
        self.program = program
        self.work = work
        self.source = [sys.executable, "-m", "citytwin"]

    def _frozen(self, args: list[str], timeout: float = 180, headless: bool = False, **env: str):
        return _run([str(self.program), *args], timeout, env=_isolated_env(self.work, headless, **env))

    def _from_source(self, args: list[str], timeout: float = 180, headless: bool = False):
        return _run([*self.source, *args], timeout, cwd=ROOT, env=_isolated_env(self.work, headless))

    def check_version(self, version: str) -> str:
        """``citytwin --version`` prints pyproject's version (the bundled metadata came along)."""
        p = self._frozen(["--version"])
        if p.stdout.strip() != f"citytwin {version}":
            raise CheckFailed(f"the frozen app says {p.stdout.strip() or _tail(p)!r} instead of 'citytwin {version}'.")
        return p.stdout.strip()

    def check_bundle(self, root: Path) -> str:
        """``CITYTWIN_BUNDLE_CHECK=1``: VTK classes, PROJ data inside the bundle, reprojection, metadata."""
        p = self._frozen([], CITYTWIN_BUNDLE_CHECK="1")
        try:
            report = json.loads(p.stdout)
        except ValueError:
            raise CheckFailed(f"the bundle self-check printed no report (exit {p.returncode}): {_tail(p)}") from None
        problems = [f"{k}: {v.get('error') or v}" for k, v in report.items() if isinstance(v, dict) and not v["ok"]]
        if problems or not report.get("frozen"):
            raise CheckFailed(f"the bundle self-check failed: {'; '.join(problems) or 'not frozen'}.")
        proj = report["proj"]
        if not Path(proj["data_dir"]).resolve().is_relative_to(root.resolve()):
            raise CheckFailed(f"PROJ reads {proj['data_dir']}, outside the installed bundle.")
        return (
            f"{len(report['vtk']['modules_loaded'])} VTK modules loaded, 0 classes missing; "
            f"PROJ {proj['proj_version']} from the bundle; EPSG:25832 → 4326 gives {proj['reprojected']}; "
            f"{len(report['readers']['readers'])} readers load"
        )

    def check_symlink(self, version: str) -> str:
        """The bootloader finds its bundle when started through a link (as /usr/bin/citytwin is)."""
        link = self.work / "bin" / "citytwin"
        link.parent.mkdir(exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(self.program)
        p = _run([str(link), "--version"], env=_isolated_env(self.work))
        if p.stdout.strip() != f"citytwin {version}":
            raise CheckFailed(f"started through a link it failed: {_tail(p)}")
        return "ok"

    def check_snapshot(self, files: list[Path], tag: str, headless: bool = False, extra: tuple[str, ...] = ()) -> str:
        """A frozen snapshot that is not blank and matches the source checkout's pixel for pixel (nearly)."""
        import numpy as np

        args = ["snapshot", *map(str, files), "--size", "960x540", *extra]
        frozen, source = self.work / f"snap-{tag}-frozen.png", self.work / f"snap-{tag}-source.png"
        p = self._frozen([*args, "-o", str(frozen)], headless=headless)
        if p.returncode != 0 or not frozen.is_file():
            raise CheckFailed(f"the frozen snapshot failed (exit {p.returncode}): {_tail(p)}")
        covered = not_blank(frozen)
        if covered < 0.02:
            raise CheckFailed(f"the frozen snapshot is blank: {covered:.1%} of it differs from the background.")
        q = self._from_source([*args, "-o", str(source)], headless=headless)
        if q.returncode != 0:
            raise CheckFailed(f"the source checkout's snapshot failed, so there is nothing to compare: {_tail(q)}")
        diff = np.abs(_image(frozen) - _image(source)).max(axis=2)
        share = float((diff > 24).mean())
        if share > 0.005:
            raise CheckFailed(f"{share:.1%} of the pixels differ from the source checkout's snapshot ({frozen.name}).")
        return f"{covered:.0%} of the image is city; {share:.2%} of pixels differ from the source checkout's"

    def check_video(self, data: Path) -> str:
        """``citytwin render --orbit`` writes an H.264 MP4 with the bundled ffmpeg."""
        out = self.work / "orbit.mp4"
        p = self._frozen(["render", str(data), "--orbit", "--duration", "1", "--fps", "10", "--size", "320x240",
                          "-o", str(out)])  # fmt: skip
        if p.returncode != 0 or not out.is_file():
            raise CheckFailed(f"the frozen app wrote no video (exit {p.returncode}): {_tail(p)}")
        head = out.read_bytes()[:12]
        if head[4:8] != b"ftyp" or out.stat().st_size < 5_000:
            raise CheckFailed(f"{out.name} is not an MP4 file ({out.stat().st_size} bytes).")
        return f"{out.stat().st_size / 1e3:.0f} kB MP4"

    def check_info(self, path: Path) -> str:
        """``info --json`` of the frozen app equals the source checkout's (timing fields left out)."""
        p = self._frozen(["info", "--json", str(path)])
        q = self._from_source(["info", "--json", str(path)])
        if p.returncode != 0:
            raise CheckFailed(f"the frozen 'info --json' failed (exit {p.returncode}): {_tail(p)}")
        frozen, source = _strip_volatile(json.loads(p.stdout)), _strip_volatile(json.loads(q.stdout))
        if frozen != source:
            keys = sorted(k for k in set(frozen) | set(source) if frozen.get(k) != source.get(k))
            raise CheckFailed(f"the frozen app and the source checkout disagree on {', '.join(keys)}.")
        return f"{frozen.get('format')} {frozen.get('version') or ''}, {len(frozen)} fields equal".replace("  ", " ")

    def _first_frame(self, args: list[str]) -> tuple[float, float]:
        """Start the window with ``CITYTWIN_EXIT_AFTER_FIRST_FRAME=1``; (seconds seen from here, the app's figure)."""
        env = _isolated_env(self.work, CITYTWIN_EXIT_AFTER_FIRST_FRAME="1")
        lines: list[tuple[float, str]] = []
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(self.program), *args], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip

        def read() -> None:
            for line in proc.stderr:
                lines.append((time.perf_counter() - t0, line))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            rc = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise CheckFailed("the window showed no first frame within 120 s.") from None
        reader.join(5)
        for seen, line in lines:
            m = _FIRST_FRAME.search(line)
            if m:
                if rc != 0:
                    raise CheckFailed(f"the window drew its first frame but exited with status {rc}.")
                return seen, float(m.group(1))
        tail = " | ".join(line.strip() for _s, line in lines[-3:])
        raise CheckFailed(f"the window exited (status {rc}) without drawing a frame: {tail or 'no output'}")

    def check_window(self, paths: list[Path]) -> str:
        """``citytwin FILE`` (what the desktop runs for a double-click) opens the window on FILE and draws it."""
        seen, _own = self._first_frame([str(p) for p in paths])
        return f"first frame after {seen:.2f} s"

    def measure_cold_start(self, starts: int, out: dict[str, Any]) -> str:
        """Start the window on the sample ``starts`` times, the first with the bundle evicted from the page cache.

        Fills ``out`` with ``first``, ``median``, ``runs``, ``in_process`` and ``cache``.
        """
        evicted = evict_from_page_cache(self.program.parent)
        runs, own = [], []
        for _ in range(starts):
            seen, in_process = self._first_frame([])
            runs.append(round(seen, 3))
            own.append(in_process)
        out.update(
            first=runs[0], median=statistics.median(runs), runs=runs, in_process=own,
            cache="the first with the bundle's files evicted from the page cache" if evicted
            else "the page cache as it was (eviction not possible)",
        )  # fmt: skip
        return f"{', '.join(f'{s:.2f}' for s in runs)} s (the first {'cold' if evicted else 'not evicted'})"


def evict_from_page_cache(folder: Path) -> bool:
    """Drop the files under ``folder`` (only those) from the page cache, so the next start reads them from disk."""
    if not hasattr(os, "posix_fadvise"):
        return False
    os.sync()
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


def check_tarball(tar: Path, dest: Path, version: str) -> str:
    """The archive unpacks to one folder whose citytwin runs, and whose installer registers the desktop entry."""
    dest.mkdir(parents=True)
    p = _run(["tar", "-xJf", str(tar), "-C", str(dest)], timeout=600)
    if p.returncode != 0:
        raise CheckFailed(f"tar cannot unpack {tar.name}: {_tail(p)}")
    tops = list(dest.iterdir())
    if len(tops) != 1 or tops[0].name != f"citytwin-{version}-linux-x86_64":
        raise CheckFailed(f"{tar.name} does not unpack to one folder citytwin-{version}-linux-x86_64.")
    folder = tops[0]
    q = _run([str(folder / "citytwin"), "--version"], env=_isolated_env(dest))
    if q.stdout.strip() != f"citytwin {version}":
        raise CheckFailed(f"the unpacked archive's citytwin does not run: {_tail(q)}")
    env = {**_isolated_env(dest), "XDG_DATA_HOME": str(dest / "xdg")}
    r = _run(["sh", str(folder / "install-desktop-entry.sh")], env=env)
    entry = dest / "xdg" / "applications" / "citytwin.desktop"
    if r.returncode != 0 or not entry.is_file() or str(folder / "citytwin") not in entry.read_text():
        raise CheckFailed(f"install-desktop-entry.sh did not register citytwin for the user: {_tail(r)}")
    return f"{folder.name}/citytwin runs; desktop entry installed for one user"
