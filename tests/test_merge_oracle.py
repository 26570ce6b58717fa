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
from typing import Optional

import pytest
from conftest import IGN_FIXTURES
from test_merge import prune

from ignkit.errors import IgnkitError
from ignkit.ignition.resolve import resolve

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


def compare(name: str, parent: dict, children: list, must_fail: Optional[bool], tmp_path: Path) -> None:
    """Render with both; ``must_fail`` None: whatever the oracle says, ignkit must say the same."""
    full = with_children(parent, children)
    want, log = oracle(full, tmp_path / "oracle")
    if must_fail is None:
        must_fail = want is None
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


# --- generated configs ----------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

NODE_PATHS = ["/a", "/b", "/c", "/d"]


@st.composite
def small_config(draw):
    """A config valid on its own at a spec Debian's Ignition knows: nodes, units, users, kargs, filesystems."""
    version = draw(st.sampled_from(["3.0.0", "3.1.0", "3.2.0", "3.3.0"]))
    cfg: dict = {"ignition": {"version": version}}
    storage: dict = {}
    for path in draw(st.lists(st.sampled_from(NODE_PATHS), unique=True)):
        kind = draw(st.sampled_from(["files", "directories", "links"]))
        item: dict = {"path": path}
        if draw(st.booleans()):
            item["overwrite"] = False
        if kind == "files" and draw(st.booleans()):
            item["contents"] = {"source": draw(st.sampled_from(["data:,x", "data:,y"]))}
        if kind == "files" and draw(st.booleans()):
            item["append"] = [{"source": "data:,z"}]
        if kind == "files" and version != "3.0.0" and draw(st.booleans()):
            headers = []
            for hname in draw(st.lists(st.sampled_from(["A", "B"]), unique=True, min_size=1)):
                value = draw(st.sampled_from([None, "1", "2"]))
                headers.append({"name": hname} if value is None else {"name": hname, "value": value})
            item["contents"] = {"source": "https://h/x", "httpHeaders": headers}
        if kind != "links" and draw(st.booleans()):
            item["mode"] = draw(st.sampled_from([0o644, 0o600, 0o755]))
        if kind == "links":
            item["target"] = draw(st.sampled_from(["/t1", "/t2"]))
        storage.setdefault(kind, []).append(item)
    for dev in draw(st.lists(st.sampled_from(["/dev/vda", "/dev/vdb"]), unique=True, max_size=2)):
        fs: dict = {"device": dev, "format": draw(st.sampled_from(["ext4", "xfs"]))}
        if draw(st.booleans()):
            fs["options"] = draw(st.lists(st.sampled_from(["-a", "-b"]), max_size=2))
        if version != "3.0.0" and draw(st.booleans()):
            fs["mountOptions"] = ["ro"]
        storage.setdefault("filesystems", []).append(fs)
    for dev in draw(st.lists(st.sampled_from(["/dev/sda", "/dev/sdb"]), unique=True, max_size=2)):
        disk: dict = {"device": dev}
        if draw(st.booleans()):
            disk["wipeTable"] = draw(st.booleans())
        parts = []
        for key in draw(st.lists(st.sampled_from(["n1", "n2", "lroot", "lvar"]), unique=True, max_size=3)):
            part: dict = {"number": int(key[1])} if key[0] == "n" else {"label": key[1:]}
            if key[0] == "n" and draw(st.booleans()):
                part["label"] = draw(st.sampled_from(["boot", "root"]))
            if draw(st.booleans()):
                part["sizeMiB"] = draw(st.sampled_from([0, 100]))
            parts.append(part)
        if parts:
            disk["partitions"] = parts
        storage.setdefault("disks", []).append(disk)
    if draw(st.booleans()):
        storage["raid"] = [{"name": "md0", "level": "raid1",
                            "devices": draw(st.lists(st.sampled_from(["/dev/vdc", "/dev/vdd", "/dev/vde"]),
                                                     unique=True, min_size=1)),
                            "options": draw(st.lists(st.sampled_from(["--x"]), max_size=2))}]
    if version in ("3.2.0", "3.3.0") and draw(st.booleans()):
        tang = [{"url": u, "thumbprint": draw(st.sampled_from(["t1", "t2"]))}
                for u in draw(st.lists(st.sampled_from(["http://t1", "http://t2"]), unique=True, min_size=1))]
        clevis: dict = {"tang": tang}
        if draw(st.booleans()):
            clevis["threshold"] = draw(st.sampled_from([1, 2]))
        storage["luks"] = [{"name": "root", "device": "/dev/vdf", "clevis": clevis}]
    if storage:
        cfg["storage"] = storage
    units = []
    for name in draw(st.lists(st.sampled_from(["a.service", "b.socket"]), unique=True, max_size=2)):
        unit: dict = {"name": name}
        if draw(st.booleans()):
            unit["mask"] = draw(st.booleans())
        if draw(st.booleans()):
            unit["contents"] = draw(st.sampled_from(["[Unit]\nA=1", "[Unit]\nB=2\n[Install]\nWantedBy=x.target"]))
        dropins = draw(st.lists(st.sampled_from(["1.conf", "2.conf"]), unique=True, max_size=2))
        if dropins:
            unit["dropins"] = [{"name": d, "contents": "[Unit]\nC=" + d} for d in dropins]
        units.append(unit)
    if units:
        cfg["systemd"] = {"units": units}
    users = []
    for name in draw(st.lists(st.sampled_from(["core", "alice"]), unique=True, max_size=2)):
        user: dict = {"name": name}
        keys = draw(st.lists(st.sampled_from(["k1", "k2", "k3"]), unique=True, max_size=3))
        if keys:
            user["sshAuthorizedKeys"] = keys
        if draw(st.booleans()):
            user["uid"] = draw(st.sampled_from([1000, 1001]))
        users.append(user)
    if users:
        cfg["passwd"] = {"users": users}
    if version == "3.3.0":
        args = draw(st.lists(st.sampled_from(["quiet", "debug", "x=1"]), unique=True, max_size=3))
        split = draw(st.integers(0, len(args)))
        if args:
            cfg["kernelArguments"] = {"shouldExist": args[:split], "shouldNotExist": args[split:]}
    return cfg


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(small_config(), st.lists(small_config(), min_size=1, max_size=3))
def test_generated_renders_match_debian_ignition(tmp_path, parent, children):
    import uuid

    # (identical children are duplicate merge sources: both must then reject the parent)
    compare("generated", parent, children, None, tmp_path / uuid.uuid4().hex)
