"""The README's examples work as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ignkit.cli import main
from ignkit.inventory import load_inventory

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_inventory_example_loads(tmp_path: Path) -> None:
    block = re.search(r"```yaml\n(.*?)```", README, re.S)
    assert block, "README has no yaml example"
    path = tmp_path / "hosts.yaml"
    path.write_text(block.group(1))
    (host,) = load_inventory(path)
    assert host.hostname == "worker-0.example.com"
    assert host.macs == ["52:54:00:00:00:10"]
    assert [(a.ip, a.prefix) for a in host.addresses] == [("192.0.2.10", 24)]
    assert host.gateway == "192.0.2.1" and host.dns == ["192.0.2.53"]
    assert host.install_dev == "/dev/sda" and host.console == ["ttyS0,115200n8"]


def _flow_commands() -> list[list[str]]:
    section = README.split("## Typical day-2 flow", 1)[1].split("##", 1)[0]
    code = "\n".join(line for line in section.splitlines() if line.startswith("    "))
    text = re.sub(r"\\\n\s*", " ", code)
    commands = []
    for line in text.splitlines():
        for part in line.split("|"):
            words = shlex.split(part.split(">")[0])
            if words[:1] == ["ignkit"]:
                commands.append(words[1:])
    return commands


@pytest.mark.parametrize("argv", _flow_commands(), ids=lambda a: " ".join(a[:2]))
def test_day2_flow_options_exist(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # Every option the README shows is one the command knows: --help after the subcommand path.
    path = [w for w in argv if not w.startswith("-")][:2]
    assert main([*path[:1], *([path[1]] if path[0] in ("ignition", "csr") else []), "--help"]) == 0
    helptext = capsys.readouterr().out
    for word in argv:
        if word.startswith("--"):
            assert word.split("=")[0] in helptext, f"{word} is not an option of {' '.join(path)}"
