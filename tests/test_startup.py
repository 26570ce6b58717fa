"""What the embed commands load, and when: a guard for their start-up (issue 12: a grown-area embed as a copy
within 1.1x cp, where every 33 ms of the command's own work is 0.1x on a 1 GiB ISO).

Each command runs as a real process under a probe that records ``sys.modules`` when the copy of ``-o OUT``
starts (a reflink, or the thread that copies) and when the command returns: the copy must start before the
ISO code (ignkit.live.image, pycdlib) and the config reader are loaded, and a JSON config must never load
YAML, HTTP, JSON Schema or package-metadata modules. Module sets, not timings: the same on a loaded machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ignkit.live import open_iso, write_iso

ISO = "embed-areas-2023-07.x86_64"

PROBE = r"""
import json, sys
import ignkit.isocopy  # loaded before the copy by every -o command anyway
seen = {}
begin = ignkit.isocopy.BackgroundCopy.__init__
def watched(self, *args):
    seen["copy"] = sorted(sys.modules)
    begin(self, *args)
ignkit.isocopy.BackgroundCopy.__init__ = watched
from ignkit.cli import main
try:
    seen["code"] = main(sys.argv[2:])
finally:
    seen["exit"] = sorted(sys.modules)
    with open(sys.argv[1], "w") as f:
        json.dump(seen, f)
"""

#: Loaded only when the ISO is opened or the config read: after the copy has started.
AFTER_COPY = {"ignkit.live.image", "ignkit.live.grow", "ignkit.isofs", "pycdlib", "ignkit.configinput",
              "ignkit.live.customize", "ignkit.ignition.validate"}
#: Never loaded to embed a JSON config into an ISO file.
NEVER = {"jsonschema", "yaml", "requests", "urllib3", "aiohttp", "cryptography", "zstandard", "importlib.metadata",
         "ignkit.butane", "ignkit.yamlfile", "ignkit.fetch", "ignkit.serve", "email", "http.client", "ssl"}


def _already_loaded() -> set[str]:
    """What the interpreter itself (site, .pth files of this environment) loads before ignkit runs."""
    out = subprocess.run([sys.executable, "-c", "import sys; print('\\n'.join(sys.modules))"], check=True,
                         capture_output=True, text=True)
    return set(out.stdout.split())


def probe(tmp_path: Path, *args: object) -> dict[str, object]:
    record = tmp_path / "modules.json"
    r = subprocess.run([sys.executable, "-c", PROBE, str(record), *map(str, args)], capture_output=True,
                       timeout=120)
    seen: dict[str, object] = json.loads(record.read_text())
    assert seen["code"] == 0, r.stderr
    return seen


@pytest.fixture(scope="module")
def big_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config that does not fit the fixture's area (incompressible bytes): the xz -9 fit check and the grown
    area both run."""
    blob = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(300 * 1024 // 32))
    path = tmp_path_factory.mktemp("startup") / "big.ign"
    path.write_text(json.dumps({"ignition": {"version": "3.3.0"}, "storage": {"files": [
        {"path": "/big", "contents": {"source": "data:;base64," + base64.b64encode(blob).decode()}}]}}))
    return path


def test_iso_ignition_embed_copies_before_loading_the_iso_code(fixture_isos: dict[str, Path], tmp_path: Path,
                                                               big_config: Path) -> None:
    out = tmp_path / "out.iso"
    seen = probe(tmp_path, "iso", "ignition", "embed", "--grow-area", "-i", big_config, fixture_isos[ISO],
                 "-o", out)
    base = _already_loaded()
    assert "copy" in seen, "-o OUT no longer starts the copy before the edits"
    assert AFTER_COPY & set(seen["copy"]) - base == set()  # type: ignore[arg-type]
    assert NEVER & set(seen["exit"]) - base == set()  # type: ignore[arg-type]
    assert {"ignkit.live.image", "pycdlib", "ignkit.live.grow"} <= set(seen["exit"])  # type: ignore[arg-type]
    # the same bytes as the library writes: nothing of the output changed with the order of the work
    live = open_iso(fixture_isos[ISO])
    live.allow_grow = True
    live.embed_ignition(big_config.read_bytes(), source=str(big_config))
    write_iso(live, output=str(tmp_path / "lib.iso"))
    assert open_iso(str(out)).inspect()["ignition"].get("grown"), "the config was meant not to fit the area"
    assert out.read_bytes() == (tmp_path / "lib.iso").read_bytes()


def test_embed_copies_before_opening_the_iso(fixture_isos: dict[str, Path], tmp_path: Path) -> None:
    config = tmp_path / "live.ign"
    config.write_text('{"ignition": {"version": "3.3.0"}}')
    out = tmp_path / "out.iso"
    seen = probe(tmp_path, "embed", "--live-ignition", config, fixture_isos[ISO], "-o", out)  # (an installer
    # config, --dest-device, is YAML: that loads the YAML emitter, rightly)
    base = _already_loaded()
    assert "copy" in seen
    assert AFTER_COPY & set(seen["copy"]) - base == set()  # type: ignore[arg-type]
    assert NEVER & set(seen["exit"]) - base == set()  # type: ignore[arg-type]
    # the config was checked all the same (validation is not skipped to start faster)
    assert "ignkit.ignition.validate" in seen["exit"]  # type: ignore[operator]
    assert open_iso(str(out)).ignition_config() is not None


def test_embed_errors_leave_nothing_when_the_copy_started_first(fixture_isos: dict[str, Path],
                                                                tmp_path: Path) -> None:
    """The copy now starts before the config is read or the ISO opened: a refusal then still leaves no file."""
    bad = tmp_path / "bad.ign"
    bad.write_text("[1, 2]")
    out = tmp_path / "out.iso"
    r = subprocess.run([sys.executable, "-m", "ignkit", "iso", "ignition", "embed", "-i", str(bad),
                        str(fixture_isos[ISO]), "-o", str(out)], capture_output=True, timeout=120)
    assert r.returncode == 2 and r.stderr.decode().startswith("ignkit: error: ") and b"JSON object" in r.stderr
    r = subprocess.run([sys.executable, "-m", "ignkit", "embed", "--live-ignition", str(bad),
                        str(fixture_isos[ISO]), "-o", str(out)], capture_output=True, timeout=120)
    assert r.returncode != 0 and r.stderr.decode().startswith("ignkit: error: ")
    r = subprocess.run([sys.executable, "-m", "ignkit", "iso", "ignition", "embed", "-i", str(tmp_path / "none.ign"),
                        str(fixture_isos[ISO]), "-o", str(out)], capture_output=True, timeout=120)
    assert r.returncode == 2 and b"none.ign" in r.stderr
    assert sorted(os.listdir(tmp_path)) == ["bad.ign"]  # no output, no temporary file


@pytest.mark.parametrize("args", [["--version"], ["embed", "--help"], ["iso", "ignition", "embed", "--help"]])
def test_start_up_loads_no_metadata_nor_iso_code(tmp_path: Path, args: list[str]) -> None:
    seen = probe(tmp_path, *args)
    loaded = set(seen["exit"]) - _already_loaded()  # type: ignore[arg-type]
    assert loaded & (NEVER | {"ignkit.live.image", "pycdlib"}) == set()


def test_outfile_paths_read_as_pathlib_reads_them() -> None:
    """ignkit.outfile names outputs without importing pathlib, in its words: every combination of awkward parts."""
    import itertools
    from pathlib import PurePosixPath

    from ignkit.outfile import pure_path

    atoms = ["", "/", "//", "///", ".", "..", "a", "b.iso", "./", "a/", "//a", "a//b", "a/./b", "a/.", ".x", "..."]
    for k in (1, 2, 3):
        for combo in itertools.product(atoms, repeat=k):
            text = "".join(combo)
            if text:
                p = PurePosixPath(text)
                assert pure_path(text) == (str(p), str(p.parent), p.name), text
