"""Hostile output and input situations (issue 10 items 4, 11, 16, 21 FIFO): -o naming the input (with
--overwrite, through another spelling, a symlink or a hard link), standard output closed, standard input a
terminal, an initramfs that is a FIFO. Each is refused at once, the input untouched and nothing written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hostile_cases import CONFIG, HOSTS, assert_refused, live_initramfs

ISO_EDITS = {
    "iso-ignition-embed": ["iso", "ignition", "embed", "-i", "c.ign", "in.iso"],
    "iso-ignition-remove": ["iso", "ignition", "remove", "in.iso"],
    "iso-network-embed": ["iso", "network", "embed", "-k", "eth.nmconnection", "in.iso"],
    "iso-network-remove": ["iso", "network", "remove", "in.iso"],
    "iso-kargs-modify": ["iso", "kargs", "modify", "-a", "quiet", "in.iso"],
    "iso-kargs-reset": ["iso", "kargs", "reset", "in.iso"],
    "iso-reset": ["iso", "reset", "in.iso"],
    "iso-customize": ["iso", "customize", "--dest-ignition", "c.ign", "in.iso"],
    "embed": ["embed", "--dest-ignition", "c.ign", "in.iso"],
}
SPELLINGS = {"same": "in.iso", "dotted": "./sub/../in.iso", "symlink": "link.iso", "hardlink": "hard.iso"}


def _setup(tmp: Path, iso: Path) -> None:
    shutil.copyfile(iso, tmp / "in.iso")
    (tmp / "c.ign").write_bytes(CONFIG)
    (tmp / "eth.nmconnection").write_text("[connection]\nid=eth\ntype=ethernet\n")
    (tmp / "sub").mkdir()
    (tmp / "link.iso").symlink_to("in.iso")
    os.link(tmp / "in.iso", tmp / "hard.iso")


# Every command with the plain spelling; every spelling on three commands.
MATRIX = sorted({(c, "same") for c in ISO_EDITS}
                | {(c, s) for c in ("iso-reset", "embed", "iso-kargs-modify") for s in SPELLINGS})


@pytest.mark.parametrize(("command", "spelling"), MATRIX)
def test_output_is_the_input_iso(command: str, spelling: str, tmp_path: Path, iso_x86: Path) -> None:
    _setup(tmp_path, iso_x86)
    args = ISO_EDITS[command] + ["-o", SPELLINGS[spelling], "--overwrite"]
    assert_refused(args, tmp_path, expect="--in-place")


def test_pxe_customize_output_is_the_input(tmp_path: Path) -> None:
    live_initramfs(tmp_path / "initrd.img")
    (tmp_path / "c.ign").write_bytes(CONFIG)
    assert_refused(["pxe", "customize", "initrd.img", "--dest-ignition", "c.ign", "-o", "initrd.img",
                    "--overwrite"], tmp_path, expect="is also an input")


def test_hosts_output_is_the_input(tmp_path: Path, iso_x86: Path) -> None:
    """--hosts writing <hostname>.iso onto the input ISO itself."""
    shutil.copyfile(iso_x86, tmp_path / "worker-0.iso")
    (tmp_path / "c.ign").write_bytes(CONFIG)
    (tmp_path / "h.yaml").write_text(HOSTS)
    assert_refused(["embed", "worker-0.iso", "--hosts", "h.yaml", "--output-dir", ".", "--dest-ignition", "c.ign",
                    "--overwrite"], tmp_path, expect="is also an input")


@pytest.mark.parametrize("args", [["pxe", "ignition", "wrap", "-i", "c.ign", "-o", "c.ign"],
                                  ["pxe", "network", "wrap", "-k", "eth.nmconnection", "-o", "eth.nmconnection"]],
                         ids=["ignition-wrap", "network-wrap"])
def test_wrap_output_is_the_input(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "c.ign").write_bytes(CONFIG)
    (tmp_path / "eth.nmconnection").write_text("[connection]\nid=eth\ntype=ethernet\n")
    assert_refused(args, tmp_path, expect="is also an input")


def test_from_secret_output_is_the_input(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('{"kind":"Secret","data":{"userData":"e30="}}')
    assert_refused(["ignition", "from-secret", "s.json", "-o", "s.json"], tmp_path, expect="is also an input")


STDOUT_WRITERS = {
    "iso-reset": ["iso", "reset", "in.iso", "-o", "-"],
    "iso-ignition-embed": ["iso", "ignition", "embed", "-i", "c.ign", "in.iso", "-o", "-"],
    "embed": ["embed", "in.iso", "--dest-ignition", "c.ign", "-o", "-"],
    "pxe-customize": ["pxe", "customize", "initrd.img", "--dest-ignition", "c.ign", "-o", "-"],
    "pxe-ignition-wrap": ["pxe", "ignition", "wrap", "-i", "c.ign"],
    "merge": ["merge", "c.ign"],
    "from-secret": ["ignition", "from-secret", "s.json"],
    "pxe-config": ["pxe", "config", "-F", "grub", "-a", "x86_64", "--kernel-url", "k", "--initramfs-url", "i",
                   "--rootfs-url", "http://h/r", "--ignition-url", "http://h/c.ign", "--install-dev", "/dev/sda"],
}


@pytest.mark.parametrize("command", sorted(STDOUT_WRITERS))
def test_stdout_closed(command: str, tmp_path: Path, iso_x86: Path) -> None:
    shutil.copyfile(iso_x86, tmp_path / "in.iso")
    (tmp_path / "c.ign").write_bytes(CONFIG)
    (tmp_path / "s.json").write_text('{"kind":"Secret","data":{"userData":'
                                     '"eyJpZ25pdGlvbiI6eyJ2ZXJzaW9uIjoiMy40LjAifX0="}}')
    live_initramfs(tmp_path / "initrd.img")
    assert_refused(STDOUT_WRITERS[command], tmp_path, stdout_closed=True, expect="standard output is closed")


STDIN_READERS = {
    "pxe-ignition-unwrap": ["pxe", "ignition", "unwrap"],
    "pxe-ignition-unwrap-dash": ["pxe", "ignition", "unwrap", "-"],
    "from-secret": ["ignition", "from-secret", "-"],
    "merge": ["merge", "-"],
    "pxe-ignition-wrap": ["pxe", "ignition", "wrap", "-o", "out.img"],
    "csr-review": ["csr", "review", "--hosts", "h.yaml"],
    "hash": ["hash", "-"],
    "validate": ["validate", "-"],
    "stream-show": ["stream", "show", "-"],
}


@pytest.mark.parametrize("command", sorted(STDIN_READERS))
def test_stdin_terminal(command: str, tmp_path: Path) -> None:
    (tmp_path / "h.yaml").write_text(HOSTS)
    assert_refused(STDIN_READERS[command], tmp_path, stdin_tty=True, expect="terminal")


def test_pxe_customize_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "initrd.img")
    (tmp_path / "c.ign").write_bytes(CONFIG)
    assert_refused(["pxe", "customize", "initrd.img", "--dest-ignition", "c.ign", "-o", "out.img"], tmp_path,
                   expect="not a regular file")


def test_pxe_customize_hosts_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "initrd.img")
    (tmp_path / "c.ign").write_bytes(CONFIG)
    (tmp_path / "h.yaml").write_text(HOSTS)
    assert_refused(["pxe", "customize", "initrd.img", "--hosts", "h.yaml", "--output-dir", "out",
                    "--dest-ignition", "c.ign"], tmp_path, expect="not a regular file")


def _killed_writer_temp(directory: Path, prefix: str) -> Path:
    """A temporary file left by an ignkit writer killed with SIGKILL right after creating it."""
    import subprocess
    import sys

    code = ("import os, sys; from ignkit.outfile import make_temp; fd, p = make_temp(sys.argv[1], sys.argv[2]); "
            "print(p, flush=True); os.kill(os.getpid(), 9)")
    proc = subprocess.run([sys.executable, "-c", code, str(directory), prefix], capture_output=True, timeout=30,
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])))
    assert proc.returncode == -9
    path = Path(proc.stdout.decode().strip())
    assert path.exists() and path.parent == directory
    return path


def test_temp_files_of_killed_writers_are_removed(tmp_path: Path, iso_x86: Path) -> None:
    """Item 15: kill -9 mid-write leaves a temporary file; the next run into the directory removes it (and the
    temporary files of writers still alive, and files not named like ignkit's, are left alone)."""
    import subprocess
    import sys

    shutil.copyfile(iso_x86, tmp_path / "in.iso")
    (tmp_path / "c.ign").write_bytes(CONFIG)
    (tmp_path / "h.yaml").write_text(HOSTS)
    stale_single = _killed_writer_temp(tmp_path, ".out.iso.")
    stale_set = _killed_writer_temp(tmp_path / "", "")
    alive = tmp_path / f".out.iso.ignkit-{os.getpid()}-keep.tmp"
    alive.write_bytes(b"")
    foreign = tmp_path / ".out.iso.abcd.tmp"
    foreign.write_bytes(b"")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.run([sys.executable, "-m", "ignkit", "embed", "in.iso", "--dest-ignition", "c.ign",
                           "-o", "out.iso"], cwd=tmp_path, capture_output=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert not stale_single.exists() and not stale_set.exists()
    assert alive.exists() and foreign.exists() and (tmp_path / "out.iso").exists()
    # --hosts writes its set through the same naming: a killed --hosts run's temporaries go too.
    (tmp_path / "isos").mkdir()
    stale_hosts = _killed_writer_temp(tmp_path / "isos", "")
    proc = subprocess.run([sys.executable, "-m", "ignkit", "embed", "in.iso", "--hosts", "h.yaml", "--output-dir",
                           "isos", "--dest-ignition", "c.ign"], cwd=tmp_path, capture_output=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    assert not stale_hosts.exists()
    assert sorted(p.name for p in (tmp_path / "isos").iterdir()) == ["worker-0.iso"]
