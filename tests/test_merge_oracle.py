"""Renders compared with Debian's Ignition 2.14 binary (``fetch-offline`` stage, data: URLs only).

Needs the ``ignition`` package, root and ``unshare`` (a private mount and network namespace, a tmpfs on
/run): see the spec, section 7.3. Skipped when any of that is missing.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
import os
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest
from conftest import IGN_FIXTURES
from test_merge import prune

from ignkit.errors import IgnkitError
from ignkit.ignition.merge import resolve

IGNITION = Path("/usr/lib/dracut/modules.d/30ignition/ignition")

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(not IGNITION.is_file(), reason="Debian's ignition package is not installed"),
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare"),
]

SCRIPT = """
mount -t tmpfs tmpfs /run || exit 97
if [ -d /usr/lib/ignition ]; then mount -t tmpfs tmpfs /usr/lib/ignition || exit 97; fi
IGNITION_CONFIG_FILE="$W/config.ign" exec "$IGN" -platform file -stage fetch-offline -log-to-stdout \
  -config-cache "$W/cache.json" -state-file "$W/state" -neednet "$W/neednet" -root "$W/root"
"""


def oracle(parent: dict, work: Path):
    """Return (rendered config or None, output) from Debian's Ignition."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.ign").write_text(json.dumps(parent))
    env = dict(os.environ, W=str(work), IGN=str(IGNITION))
    r = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", "sh", "-c", SCRIPT],
                       capture_output=True, timeout=60, env=env)
    if r.returncode == 97 or (r.returncode != 0 and b"unshare" in r.stderr):
        pytest.skip(f"cannot set up the namespace: {r.stderr.decode(errors='replace').strip()}")
    cache = work / "cache.json"
    if r.returncode == 0 and cache.exists():
        return json.loads(cache.read_text()), r.stdout.decode(errors="replace")
    assert not (work / "neednet").exists(), "oracle wanted the network"
    return None, r.stdout.decode(errors="replace")


def _data(source: str) -> bytes:
    meta, payload = source.split(":", 1)[1].split(",", 1)
    data = urllib.parse.unquote_to_bytes(payload)
    return base64.b64decode(data) if meta.endswith("base64") else data


def normalise(config: dict) -> dict:
    """Drop version, references, nulls and empty objects/lists; compare CA bundles by content."""
    config = copy.deepcopy(config)
    ign = config.get("ignition", {})
    ign.pop("version", None)
    ign.pop("config", None)
    for ca in ign.get("security", {}).get("tls", {}).get("certificateAuthorities", []) or []:
        ca["source"] = _data(ca["source"]).decode()
    return prune(config)


def with_children(parent: dict, children: list) -> dict:
    parent = copy.deepcopy(parent)
    refs = [{"source": "data:," + urllib.parse.quote(json.dumps(c), safe="")} for c in children]
    if refs:
        parent["ignition"].setdefault("config", {}).setdefault("merge", []).extend(refs)
    return parent


FIXTURE = [json.loads(line) for line in (IGN_FIXTURES / "merge-cases.jsonl").read_text().splitlines()
           if line.strip()]
RENDER = [c for c in FIXTURE if c["kind"] == "runtime-render" and not c.get("expected_error")]


def v33(**sections) -> dict:
    return {"ignition": {"version": "3.3.0"}, **sections}


# A few renders of our own: (name, parent, children, must_fail)
OWN = [
    ("three children, mixed versions, dropins and headers",
     v33(systemd={"units": [{"name": "a.service", "dropins": [{"name": "1.conf", "contents": "[Unit]\nA=1"}]}]}),
     [{"ignition": {"version": "3.0.0"}, "storage": {"files": [{"path": "/x", "contents": {"source": "data:,x"}}]}},
      v33(systemd={"units": [{"name": "a.service", "mask": True, "dropins": [{"name": "2.conf", "contents": ""}]}]}),
      {"ignition": {"version": "3.1.0"}, "storage": {"files": [{"path": "/x", "append": [{"source": "data:,y"}],
                                                             "contents": {"source": "https://h/x",
                                                                          "httpHeaders": [{"name": "A",
                                                                                           "value": "b"}]}}]}}],
     False),
    ("file below a link from another config", v33(storage={"links": [{"path": "/l", "target": "/t"}]}),
     [v33(storage={"files": [{"path": "/l/f"}]})], True),
    ("child invalid alone", v33(storage={"files": [{"path": "/a"}]}),
     [v33(storage={"files": [{"path": "relative"}]})], True),
]


HAVE_VALIDATOR = importlib.util.find_spec("ignkit.ignition.validate") is not None


def compare(name: str, parent: dict, children: list, must_fail: bool, tmp_path: Path) -> None:
    full = with_children(parent, children)
    want, log = oracle(full, tmp_path / "oracle")
    if want is None:
        assert must_fail, f"oracle rejected {name}: {log}"
        if not HAVE_VALIDATOR:
            pytest.skip("ignkit.ignition.validate is not there yet")
        with pytest.raises(IgnkitError):
            resolve(json.dumps(full).encode())
        return
    assert not must_fail, f"oracle accepted {name}"
    got = resolve(json.dumps(full).encode())
    assert normalise(got) == normalise(want)


@pytest.mark.parametrize("case", RENDER, ids=[c["name"] for c in RENDER])
def test_fixture_render_matches_debian_ignition(case, tmp_path):
    compare(case["name"], case["parent"], case["children"], False, tmp_path)


@pytest.mark.parametrize("name,parent,children,must_fail", OWN, ids=[o[0] for o in OWN])
def test_own_render_matches_debian_ignition(name, parent, children, must_fail, tmp_path):
    compare(name, parent, children, must_fail, tmp_path)
