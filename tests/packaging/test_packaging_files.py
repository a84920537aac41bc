"""The installers' declarative parts agree with each other and with citytwin (fast; builds nothing)."""

from __future__ import annotations

import ast
import re
from xml.etree import ElementTree

from tests.packaging.conftest import PACKAGING, load

ROOT = PACKAGING.parent
EXTENSIONS = ("gml", "city.json", "city.jsonl", "las", "laz", "citytwin")
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def _mime_globs() -> dict[str, str]:
    tree = ElementTree.parse(PACKAGING / "linux" / "citytwin-mime.xml")
    return {g.get("pattern"): t.get("type") for t in tree.getroot() for g in t.iter(f"{MIME_NS}glob")}


def _desktop() -> dict[str, str]:
    text = (PACKAGING / "linux" / "citytwin.desktop").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_mime_types_cover_every_extension_citytwin_opens():
    globs = _mime_globs()
    assert sorted(globs) == sorted(f"*.{ext}" for ext in EXTENSIONS)
    from citytwin.cli import _is_project

    assert _is_project("work.citytwin")  # the extension the project files really have


def test_desktop_entry_opens_files_of_every_type():
    entry = _desktop()
    assert entry["Exec"] == "citytwin %F" and entry["Icon"] == "citytwin"
    assert set(entry["MimeType"].strip(";").split(";")) == set(_mime_globs().values())


def test_deb_depends_on_what_ci_installs_for_qt():
    linux_packages = load("linux_packages")
    listed = re.search(r"apt_packages=\((.*?)\)", (ROOT / ".ci" / "run").read_text(), re.DOTALL).group(1).split()
    declared = {re.split(r"[\s(|]", d.strip())[0] for d in re.split(r"[,|]", ", ".join(linux_packages.DEPENDS))}
    assert set(listed) - {"xvfb", "xauth"} <= declared


def test_control_file_fields():
    linux_packages = load("linux_packages")
    text = linux_packages.control_text("1.2.3", 123456, "2.34")
    fields = dict(re.findall(r"^([A-Z][A-Za-z-]+): (.*)$", text, re.MULTILINE))
    assert (fields["Package"], fields["Version"], fields["Architecture"]) == ("citytwin", "1.2.3", "amd64")
    assert fields["Installed-Size"] == "123456" and fields["Depends"].startswith("libc6 (>= 2.34), libgl1")
    continuation = text.split("Description: ", 1)[1].splitlines()[1:]
    assert continuation and all(line.startswith(" ") for line in continuation)


def test_glibc_needed_finds_the_newest_symbol_version(tmp_path):
    linux_packages = load("linux_packages")
    (tmp_path / "lib.so").write_bytes(b"\x7fELF....GLIBC_2.17\x00..GLIBC_2.34\x00..GLIBC_2.28\x00")
    (tmp_path / "data.txt").write_bytes(b"GLIBC_2.99\x00")  # not a binary
    assert linux_packages.glibc_needed(tmp_path) == "2.34"


def test_trim_drops_unused_qt_parts_and_their_orphan_libraries():
    trim = load("trim")
    toc = [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/x/libqxcb.so", "BINARY"),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/x/libqgtk3.so", "BINARY"),
        ("PySide6/Qt/translations/qtbase_de.qm", "/x/qtbase_de.qm", "DATA"),
        ("libgtk-3.so.0", "/x/libgtk-3.so.0", "BINARY"),
        ("libxkbcommon.so.0", "/x/libxkbcommon.so.0", "BINARY"),
        ("_cffi_backend.cpython-311-x86_64-linux-gnu.so", "/x/_cffi.so", "EXTENSION"),
    ]
    kept = trim.drop_unused(toc)
    assert [e[0] for e in kept if "plugins" in e[0] or "translations" in e[0]] == [toc[0][0]]
    links = {"/x/libqxcb.so": ["libxkbcommon.so.0"], "/x/libqgtk3.so": ["libgtk-3.so.0"]}
    binaries, dropped = trim.drop_orphans([e for e in kept if e[2] != "DATA"], lambda src: links.get(src, []))
    assert dropped == ["libgtk-3.so.0"]
    assert "_cffi_backend.cpython-311-x86_64-linux-gnu.so" in [e[0] for e in binaries]  # loaded by import
    system = [(name, f"/lib/{name}", "BINARY") for name in ("libmvec.so.1", "libstdc++.so.6", "libexpat.so.1",
                                                              "libz.so.1")]  # fmt: skip
    assert [e[0] for e in trim.drop_unused(system, trim.SYSTEM_ONLY)] == ["libz.so.1"]


def test_spec_bundles_metadata_sample_icon_and_the_same_document_types():
    spec = (PACKAGING / "citytwin.spec").read_text()
    ast.parse(spec)
    assert 'copy_metadata("citytwin")' in spec and "rthooks" in spec
    for asset in ("sample_district.city.json", "citytwin.png"):
        assert asset in spec and (ROOT / "assets" / asset).is_file()
    documents = re.findall(r'\("([a-z.]+)", "[^"]+", "(application/[^"]+)"', spec)
    assert dict(documents) == {ext: _mime_globs()[f"*.{ext}"] for ext in EXTENSIONS}


def test_windows_installer_associates_the_same_extensions():
    nsi = (PACKAGING / "windows" / "citytwin.nsi").read_text()
    for ext in EXTENSIONS:
        assert f'"{ext}"' in nsi or f".{ext}" in nsi, ext
    assert "citytwin-gui.exe" in nsi and "Uninstall" in nsi


def test_entry_point_runs_the_same_main_as_python_m_citytwin():
    entry = (PACKAGING / "entry.py").read_text()
    assert "from citytwin.cli import main" in entry
    assert "from citytwin.cli import main" in (ROOT / "citytwin" / "__main__.py").read_text()


def test_bundle_check_passes_in_the_source_checkout():
    report = load("bundle_check").report()
    assert report["frozen"] is False
    assert report["ok"] and report["vtk"]["ok"] and report["proj"]["ok"] and report["readers"]["ok"], report
    assert report["package"]["version"] == report["package"]["metadata_version"]
    assert report["package"]["sample_found"] and report["package"]["icon_found"]


def test_results_section_is_replaced_in_place(tmp_path):
    from bench import bench_package

    md = tmp_path / "RESULTS.md"
    md.write_text("# r\n\n## Summary\n\n| benchmark | target | measured | result |\n|---|---|---|---|\n"
                  "| Other | t | m | **PASS** |\n\n## Other\n\nbody\n")  # fmt: skip
    cold = {"first": 2.5, "median": 2.0, "runs": [2.5, 2.0, 1.9]}
    fig = {"installed_bytes": 600 * 2**20, "deb_bytes": 150_000_000, "tar_xz_bytes": 190_000_000,
           "cold_start_s": cold, "breakdown": {"vtkmodules": 1}}  # fmt: skip
    for _ in range(2):  # twice: the second run replaces, it does not append
        assert bench_package.update_results(bench_package.result(fig), md)
    text = md.read_text()
    assert text.count(f"## {bench_package.TITLE}") == 1 and "## Other\n\nbody" in text
    rows = [line for line in text.splitlines() if line.startswith(f"| {bench_package.TITLE} |")]
    assert len(rows) == 4 and "| Other | t | m | **PASS** |" in text
    assert [r.rsplit("|", 2)[1].strip() for r in rows] == ["**PASS**", "**PASS**", "**FAIL**", "**PASS**"]
    assert bench_package.result(None)["targets"][0]["pass"] is None
