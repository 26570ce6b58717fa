"""Differential tests: ignkit's ``validate`` against two builds of ``ignition-validate``.

- upstream: built from Ignition's current source (ignkit's reference; spec 3.0.0 - 3.7.0-experimental), in
  ../shared/oracles (conftest.UPSTREAM_IGNITION_VALIDATE). Verdicts and every output line must be identical,
  for every spec version. Skipped, with the reason, when ../shared is not beside the clone.
- debian-2.14: Debian's package (/usr/bin/ignition-validate), the oracle for released behaviour. It knows spec
  3.0.0 - 3.3.0; the areas where 2.14 and upstream differ by design are left out of generation for it (see the
  spec, sections 5.2 and 6): files under /etc/systemd/system (upstream's path conflict rule), partitions with
  ``shouldExist: false`` (2.14's extra partition rule), and newer versions. Its Go JSON error wording and a few
  messages differ (``_normalize``). The upstream build words Go JSON syntax errors as Go 1.27 does
  (``_go_json_wording``: positions must agree).

Hypothesis generates configs from pools of valid and invalid values; they are generated first (derandomized,
bounded), then the binary runs over all of them in a small thread pool.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest
from conftest import UPSTREAM_IGNITION_VALIDATE, needs_shared
from editor_schema import complaints
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ignkit.ignition.validate import validate
from ignkit.ignition.versions import SUPPORTED

DEBIAN = shutil.which("ignition-validate") or ("/usr/bin/ignition-validate"
                                                if os.path.exists("/usr/bin/ignition-validate") else None)


@dataclass(frozen=True)
class Oracle:
    name: str
    binary: Optional[str]
    versions: tuple[str, ...]  # the spec versions generated for it
    upstream: bool  # ignkit's reference: identical lines, and the areas 2.14 differs in are generated too

    def normalize(self, line: str) -> str:
        return _go_json_wording(line) if self.upstream else _normalize(line)


def _go_json_wording(line: str) -> str:
    """The oracle in ../shared was built with Go 1.27, whose encoding/json words syntax and type errors
    differently from the Go of released Ignition builds (ignkit's wording); the position must still agree."""
    if re.match(r"error at line \d+ col \d+: ", line):  # a syntax error: no $.path
        return line.split(": ", 1)[0]
    if "json: cannot unmarshal" in line:
        return line.split(": json: cannot unmarshal")[0] + ": json: cannot unmarshal"
    return line


DEBIAN_ORACLE = Oracle("debian-2.14", DEBIAN, ("3.0.0", "3.1.0", "3.2.0", "3.3.0"), False)
UPSTREAM_ORACLE = Oracle("upstream", str(UPSTREAM_IGNITION_VALIDATE), tuple(SUPPORTED), True)

pytestmark = pytest.mark.oracle


@pytest.fixture(params=[
    pytest.param(UPSTREAM_ORACLE, id="upstream", marks=needs_shared(UPSTREAM_IGNITION_VALIDATE)),
    pytest.param(DEBIAN_ORACLE, id="debian-2.14",
                 marks=pytest.mark.skipif(DEBIAN is None, reason="Debian's ignition-validate is not installed")),
])
def oracle(request: pytest.FixtureRequest) -> Oracle:
    return request.param  # type: ignore[no-any-return]


EXAMPLES = 1500

maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
PATH_POOL = ["/a", "/a/b", "/a/b/c", "/etc/x.conf", "/var/lib/y", "relative", "", "/x/../y", "/trailing/",
             "//double", "/sp ace"]
PATHS = st.sampled_from(PATH_POOL)
# upstream only: its path conflict rule for files that systemd units and dropins also write
HEAD_PATHS = st.sampled_from(PATH_POOL + ["/etc/systemd/system/a.service", "/etc/systemd/system/a.service.d/10-a.conf"])
SOURCES = st.sampled_from([
    "data:,hello", "data:text/plain;base64,aGVsbG8=", "data:;base64,aGk=", "data:hello", "data:,a%zz",
    "http://example.com/x", "https://example.com/y?z=1", "tftp://host/f", "s3://bucket/key",
    "s3://bucket/key?versionId=", "s3://bucket/key?versionId=3", "gs://bucket/obj", "ftp://x/y", "file:///z",
    "/abs/path", "", "https://[::1", "http://%zz", "HTTP://example.com/up",
])
HASHES = st.sampled_from(["sha512-" + "0" * 128, "sha512-" + "a" * 127, "sha256-" + "1" * 64, "md5-0",
                          "sha512", "SHA512-" + "0" * 128, ""])
MODES = st.sampled_from([420, 493, 0, 4095, 4096, -1, 2541, 0o1777])
NAMES = st.sampled_from(["core", "admin", "", "core"])
UNIT_CONTENTS = st.sampled_from([
    "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
    "[Unit]\nDescription=no install\n", "[Unit", "[Unit] junk\nA=b\n", "[Unit]\nNoEquals\n", "", "ignored\n[X]\nA=1",
    "[Service]\nExecStart=/bin/a \\\n  --flag\n",
])


def resource(v: tuple[int, int]) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, Any] = {"source": maybe(SOURCES), "verification": maybe(st.fixed_dictionaries(
        {}, optional={"hash": maybe(HASHES)})), "compression": maybe(st.sampled_from(["", "gzip", "xz"]))}
    if v >= (3, 1):
        fields["httpHeaders"] = st.lists(st.fixed_dictionaries({"name": st.sampled_from(["A", "B", ""])},
                                                               optional={"value": maybe(st.sampled_from(["v", ""]))}),
                                         max_size=2)
    return st.fixed_dictionaries({}, optional=fields)


def owner() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={"id": maybe(st.sampled_from([0, 1000])), "name": maybe(NAMES)})


def storage(v: tuple[int, int], head: bool) -> st.SearchStrategy[dict[str, Any]]:
    paths = HEAD_PATHS if head else PATHS
    node = {"overwrite": maybe(st.booleans()), "user": owner(), "group": owner()}
    files = st.lists(st.fixed_dictionaries({"path": paths}, optional=dict(
        node, mode=maybe(MODES), contents=resource(v), append=st.lists(resource(v), max_size=2))), max_size=3)
    dirs = st.lists(st.fixed_dictionaries({"path": paths}, optional=dict(node, mode=maybe(MODES))), max_size=2)
    links = st.lists(st.fixed_dictionaries({"path": paths}, optional=dict(
        node, target=st.sampled_from(["/a", "/a/b", "rel", "", "../up", "b", "./c/..", "/a/b/"]),
        hard=maybe(st.booleans()))), max_size=2)
    part_extra = {"resize": maybe(st.booleans())} if v >= (3, 2) else {}
    partitions = st.lists(st.fixed_dictionaries({}, optional=dict(part_extra, **{
        "number": st.sampled_from([0, 1, 2, 3, -1]),
        "label": maybe(st.sampled_from(["root", "data", "a:b", "x" * 37, ""])),
        "startMiB": maybe(st.sampled_from([0, 1, 100, 150])),
        "sizeMiB": maybe(st.sampled_from([0, 10, 100])),
        "typeGuid": maybe(st.sampled_from(["", "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "bad-guid"])),
        "guid": maybe(st.sampled_from(["", "0fc63daf-8483-4772-8e79-3d69d8477de4", "zz"])),
        "wipePartitionEntry": maybe(st.booleans()), "shouldExist": st.booleans() if head else st.just(True),
    })), max_size=3)
    disks = st.lists(st.fixed_dictionaries({"device": st.sampled_from(["/dev/sda", "/dev/vdb", "", "sda"])},
                                           optional={"wipeTable": maybe(st.booleans()), "partitions": partitions}),
                     max_size=2)
    formats = ["ext4", "xfs", "btrfs", "swap", "vfat", "", "bogus"] + (["none"] if v >= (3, 3) else [])
    fs_opt: dict[str, Any] = {
        "format": maybe(st.sampled_from(formats)), "path": maybe(st.sampled_from(["/var", "rel", "", "/srv/"])),
        "label": maybe(st.sampled_from(["", "short", "a-sixteen-chars!", "x" * 17, "y" * 300])),
        "uuid": maybe(st.sampled_from(["", "8ba3c4a3-4b4f-4a53-9a08-0e6e7d3d9c1e"])),
        "wipeFilesystem": maybe(st.booleans()), "options": st.lists(st.sampled_from(["-m0", "-L x"]), max_size=2),
    }
    if v >= (3, 1):
        fs_opt["mountOptions"] = st.lists(st.sampled_from(["noatime", "ro"]), max_size=2)
    filesystems = st.lists(st.fixed_dictionaries({"device": st.sampled_from(["/dev/sda1", "/dev/vdb", "", "x"])},
                                                 optional=fs_opt), max_size=2)
    raid = st.lists(st.fixed_dictionaries({"name": st.sampled_from(["md0", "md1", ""])}, optional={
        "level": st.sampled_from(["raid1", "raid0", "linear", "stripe", "mirror", "10", "raid7", ""]),
        "devices": st.lists(st.sampled_from(["/dev/sda", "/dev/sdb", "sdc", "/dev/sda"]), max_size=3),
        "spares": maybe(st.sampled_from([0, 1])),
    }), max_size=2)
    fields: dict[str, Any] = {"files": files, "directories": dirs, "links": links, "disks": disks,
                              "filesystems": filesystems, "raid": raid}
    if v >= (3, 2):
        tang = st.fixed_dictionaries({}, optional={
            "url": st.sampled_from(["http://tang", "https://t2", "ftp://x", ""]),
            "thumbprint": maybe(st.sampled_from(["abc", ""]))})
        clevis = st.fixed_dictionaries({}, optional={
            "tpm2": maybe(st.booleans()), "threshold": maybe(st.sampled_from([0, 1, 2])),
            "tang": st.lists(tang, max_size=2),
            "custom": st.fixed_dictionaries({}, optional={
                "pin": st.sampled_from(["tpm2", "tang", "sss", "bogus", ""]),
                "config": st.sampled_from(["{}", ""]), "needsNetwork": maybe(st.booleans())})})
        luks_new: dict[str, Any] = {}
        if v >= (3, 4):
            luks_new.update(discard=maybe(st.booleans()),
                            openOptions=st.lists(st.sampled_from(["--perf-no_read_workqueue", ""]), max_size=2))
        if v >= (3, 5):
            luks_new["cex"] = st.fixed_dictionaries({}, optional={"enabled": maybe(st.booleans())})
        fields["luks"] = st.lists(st.fixed_dictionaries({"name": st.sampled_from(["root", "a/b", "data", ""])},
                                                        optional={
            "device": maybe(st.sampled_from(["/dev/sda2", "", "rel"])),
            "label": maybe(st.sampled_from(["lbl", "z" * 48])),
            "keyFile": resource(v), "clevis": clevis, "wipeVolume": maybe(st.booleans()), **luks_new,
        }), max_size=2)
    return st.fixed_dictionaries({}, optional=fields)


def config_strategy(oracle: Oracle) -> st.SearchStrategy[tuple[str, bytes]]:
    @st.composite
    def build(draw: Any) -> tuple[str, bytes]:
        spec = draw(st.sampled_from(oracle.versions))
        v = (3, int(spec.split(".")[1]))
        ign: dict[str, Any] = {"version": spec}
        if draw(st.booleans()):
            ref = resource(v)
            ign["config"] = draw(st.fixed_dictionaries({}, optional={
                "merge": st.lists(ref, max_size=2), "replace": ref}))
        if v >= (3, 1) and draw(st.booleans()):
            ign["proxy"] = draw(st.fixed_dictionaries({}, optional={
                "httpProxy": st.sampled_from(["http://p:3128", "https://p", "socks5://p", "", "http://[::1"]),
                "httpsProxy": st.sampled_from(["http://p:3128", "https://p", "ftp://p"]),
                "noProxy": st.lists(st.sampled_from(["a", "b", "a"]), max_size=3)}))
        if draw(st.integers(0, 3)) == 0:
            ign["timeouts"] = draw(st.fixed_dictionaries({}, optional={
                "httpTotal": maybe(st.sampled_from([0, 10, -1])), "httpResponseHeaders": maybe(st.just(5))}))
        if draw(st.booleans()):
            cas = st.lists(resource(v) if v >= (3, 1) else st.fixed_dictionaries({"source": SOURCES}), max_size=2)
            ign["security"] = {"tls": {"certificateAuthorities": draw(cas)}}
        doc: dict[str, Any] = {"ignition": ign}
        if draw(st.booleans()):
            doc["storage"] = draw(storage(v, oracle.upstream))
        if draw(st.booleans()):
            doc["systemd"] = {"units": draw(st.lists(st.fixed_dictionaries(
                {"name": st.sampled_from(["a.service", "b.timer", "c", "d.foo", "a.service", "e@.service"])},
                optional={"contents": maybe(UNIT_CONTENTS), "enabled": maybe(st.booleans()),
                          "mask": maybe(st.booleans()),
                          "dropins": st.lists(st.fixed_dictionaries(
                              {"name": st.sampled_from(["10-a.conf", "b.txt", "10-a.conf"])},
                              optional={"contents": maybe(UNIT_CONTENTS)}), max_size=2)}), max_size=3))}
        if draw(st.booleans()):
            doc["passwd"] = {"users": draw(st.lists(st.fixed_dictionaries({"name": NAMES}, optional={
                "sshAuthorizedKeys": st.lists(st.sampled_from(["ssh-ed25519 A", "ssh-rsa B", "ssh-ed25519 A"]),
                                              max_size=3),
                "groups": st.lists(st.sampled_from(["wheel", "docker", "wheel"]), max_size=2),
                "uid": maybe(st.sampled_from([0, 1000, -5]))}), max_size=2)),
                "groups": draw(st.lists(st.fixed_dictionaries({"name": NAMES}), max_size=2))}
        if v >= (3, 3) and draw(st.booleans()):
            doc["kernelArguments"] = draw(st.fixed_dictionaries({}, optional={
                "shouldExist": st.lists(st.sampled_from(["quiet", "a=b", ""]), max_size=2),
                "shouldNotExist": st.lists(st.sampled_from(["quiet", "rhgb"]), max_size=2)}))
        if draw(st.integers(0, 9)) == 0:
            doc["unknownKey"] = 1
        return spec, json.dumps(doc).encode()

    return build()


def generate(oracle: Oracle) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(config_strategy(oracle))
    def collect(example: tuple[str, bytes]) -> None:
        out.append(example)

    collect()
    return out


def run_oracle(oracle: Oracle, data: bytes, tmp: Path, i: int) -> tuple[int, str]:
    path = tmp / f"c{i}.ign"
    path.write_bytes(data)
    assert oracle.binary is not None
    p = subprocess.run([oracle.binary, str(path)], capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode() + p.stderr.decode()


def run_all(oracle: Oracle, inputs: list[bytes], tmp: Path) -> list[tuple[int, str]]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda a: run_oracle(oracle, a[1], tmp, a[0]), enumerate(inputs)))


def same_lines(oracle: Oracle, ours: list[str], theirs: list[str]) -> bool:
    return sorted(map(oracle.normalize, ours)) == sorted(map(oracle.normalize, theirs))


def test_verdicts_agree_with_ignition_validate(oracle: Oracle) -> None:
    examples = generate(oracle)
    assert len(examples) >= EXAMPLES // 2
    assert {spec for spec, _ in examples} == set(oracle.versions)  # every spec version the oracle knows
    with tempfile.TemporaryDirectory() as d:
        results = run_all(oracle, [data for _, data in examples], Path(d))
    invalid = agree = same_errors = 0
    mismatches = []
    false_alarms = []
    for (spec, data), (rc, out) in zip(examples, results):
        if rc == 0 and complaints(spec, data):
            false_alarms.append((data.decode(), complaints(spec, data)))
        report = validate(data)
        ours_ok = report.ok
        theirs_ok = rc == 0
        invalid += not theirs_ok
        if ours_ok == theirs_ok:
            agree += 1
        else:
            mismatches.append((data.decode(), out, report.lines()))
        if oracle.upstream:  # every line, warnings included
            same_errors += sorted(out.splitlines()) == sorted(report.lines())
        else:
            same_errors += (sorted(line for line in out.splitlines() if line.startswith("error"))
                            == sorted(str(e) for e in report.errors))
    n = len(examples)
    print(f"\noracle: {n} generated configs ({invalid} invalid per ignition-validate {oracle.name}); "
          f"verdicts agree {agree}/{n}; identical error lines {same_errors}/{n}")
    for m in mismatches[:5]:
        print("MISMATCH", m)
    assert not mismatches
    # The editor schemas raise no false alarm on any config the real validator accepts.
    assert not false_alarms, false_alarms[:3]
    # error lines (path, position, message) match too; all of them for ignkit's reference
    assert same_errors == n if oracle.upstream else same_errors >= 0.95 * n
    assert 0.2 * n < invalid < 0.95 * n  # the generator exercises both outcomes


QUIRKS = [
    # repeated keys: objects merge, arrays decode into the slice already held (Go's backing array)
    b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/a","mode":420}],"files":[{"overwrite":true}]}}',
    b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/a","mode":420},{"path":"/b"}],'
    b'"files":[{"overwrite":true}],"files":[{"mode":1},{"mode":2}]}}',
    b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/a","user":{"id":1}}]},"storage":null,'
    b'"storage":{"files":[{"path":"/a","user":null}]}}',
    b'{"ignition":{"version":"3.0.0","version":"3.2.0"},"storage":{"files":[]},"storage":{"directories":[{}]}}',
    # case-insensitive member names, case-sensitive unused-key pass
    b'{"IGNITION":{"VERSION":"3.1.0"},"Storage":{"Files":[{"PATH":"rel"}]},"storage":{"files":[{"path":"/x"}]}}',
    b'{"ignition":{"version":"3.3.0"},"systemd":{"Units":[{"Name":"a.service","ENABLED":true,"contents":"[Unit]"}]}}',
    # integers, nulls, odd bytes
    b'{"ignition":{"version":"3.3.0"},"passwd":{"users":[{"name":"a","uid":-0}]}}',
    b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/a","mode":1e2}]}}',
    b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/a","mode":true}]}}',
    b'{"ignition":{"version":"3.3.0"},"storage":{"disks":[{"device":"/dev/sda","partitions":[{"label":"\xff"}]}]}}',
    b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/\\u00e9\\ud800"}]}}',
    b'\n\n  {"ignition":{"version":"3.2.0"},\n"storage":{"files":[{"path":"a"}]}}\n\n',
    b'{"ignition":{"version":"3.3.0"}}\n\n{',
    b'{"ignition":{"version":"3.3.0"},"x":[1,2,{"y":nul}]}',
    b'{"ignition":{"version":"3.3.0"},"x":"\\q"}',
    b'{"ignition":{"version":"3.3.0"},"x":"\x01"}',
    b'{"ignition":{"version":"3.3.0"},"x":-}',
    b'{"ignition":{"version":"3.3.0"},"x":1.5e}',
    b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/a","contents":{"source":"data:,x"},'
    b'"append":[{"source":"data:,y"},{"source":"data:,y"}]}]}}',
    # nesting: Go's scanner allows 10000 levels
    b'{"ignition":{"version":"3.3.0"},"x":' + b"[" * 9999 + b"]" * 9999 + b"}",
    b'{"ignition":{"version":"3.3.0"},"x":' + b"[" * 10000 + b"]" * 10000 + b"}",
]


def _normalize(line: str) -> str:
    line = line.replace(": Unused key ", ": unused key ")
    line = line.replace("are not supported in spec versions older than 3.4.0",
                        "are not supported or functional in spec versions older than 3.6.0")
    if "context tree does not match content tree" in line:
        line = line.rstrip(".")
    if "json: cannot unmarshal" in line:
        line = line.split(": json: cannot unmarshal")[0] + ": json: cannot unmarshal"
    return line


def test_go_json_quirks_match(oracle: Oracle, tmp_path: Path) -> None:
    for i, raw in enumerate(QUIRKS):
        rc, out = run_oracle(oracle, raw, tmp_path, i)
        report = validate(raw)
        ours = sorted(oracle.normalize(x) for x in report.lines())
        theirs = sorted(oracle.normalize(x) for x in out.splitlines())
        assert (report.ok, ours) == (rc == 0, theirs), raw


MUTATION_BASE = (b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/a","mode":420,"contents":'
                 b'{"source":"data:,x"}}]},"passwd":{"users":[{"name":"core","uid":1000,"shouldExist":true}]}}')


def test_byte_mutations_match(oracle: Oracle, tmp_path: Path) -> None:
    """Random byte edits of a small config (syntax errors, type errors, odd bytes): same output lines."""
    import random

    rnd = random.Random(20260722)
    alphabet = b'{}[]:,"\\ \t\n0123456789-+.eEtrufalsn\x00\xff\xc3a'
    inputs = []
    for _ in range(300):
        b = bytearray(MUTATION_BASE)
        for _ in range(rnd.randint(1, 3)):
            op, pos = rnd.random(), rnd.randrange(len(b))
            if op < 0.4:
                b[pos] = rnd.choice(alphabet)
            elif op < 0.7:
                del b[pos]
            else:
                b.insert(pos, rnd.choice(alphabet))
        inputs.append(bytes(b))
    results = run_all(oracle, inputs, tmp_path)
    mismatches = []
    for raw, (rc, out) in zip(inputs, results):
        report = validate(raw)
        if report.ok != (rc == 0) or not same_lines(oracle, report.lines(), out.splitlines()):
            mismatches.append((raw, out, report.lines()))
    print(f"\nbyte mutations: {len(inputs) - len(mismatches)}/{len(inputs)} identical outputs")
    assert not mismatches, mismatches[:3]


DATA_URLS = [
    "data:;base64,aGk=", "data:;base64,aGk", "data:;base64,aG==", "data:;base64,a===", "data:;base64,====",
    "data:;base64,aGk=aGk=", "data:;base64,aGVsbG8", "data:;base64,aGVsbG8=x", "data:;base64,ab=c",
    "data:;base64,aGk%3D", "data:hello", "data:f,x", "data:text/plain;base64,!!!", "data:text/plain;charset=utf-8,hi",
    "data:x-foo/bar,hi", "data:xy/bar,hi", "data:foo/bar,hi", "data:text/plain;a=%zz,hi", "data:text/plain;base64",
    "data:,a%zz", "data:,a%2", "Data:,x", 'data:;charset="a\\"b",x', 'data:;charset="a\\qb",x', "data:text/,x",
    "data:text/plain;=x,y", "data:;a,x", 'data:;a="x,y', "data:text/plain;a=b c,x", "data:X/y,z", "data:text/pl@in,x",
    "data:,a b", "data:,\u00e9", "data:;base64,aGk=\n", "data:text/plain;a=b;base64,aGk=", "data:;base64;a=b,aGk=",
    "data:,x#frag", "data:a", "data:", "data:message/x,y", "data:;a=%4,x",
    "http://[::1]:80/x", "http://h:p/x", "http://us er@h/x", "http://h/%zz", "s3://b/k?versionId", "s3://b/k?versionId=1&versionId=",
    "tftp://h/f#%zz", "gs://b/o", "HTTPS://h/x", "http://h\u00e9/x", "http://[::1/x", "http://a b/x",
]


def _random_urls(n: int) -> list[str]:
    import random

    rnd = random.Random(20260724)
    parts = ["http", "https", "s3", "gs", "tftp", "data", "ftp", "HTTP", ":", "//", "/", "?", "#", "%", "%2",
             "%zz", "%41", "[", "]", "::1", "@", "user", ":pw", "host", ":80", ":x", " ", "a", "b.c", "versionId",
             "=", "&", ";", "\u00e9", "\x7f", "\t", ",", "+", "-", ".", "%25", "[::1]", "_", "~", "!", "{", "|"]
    return ["".join(rnd.choice(parts) for _ in range(rnd.randint(1, 8))) for _ in range(n)]


def test_source_urls_match(oracle: Oracle, tmp_path: Path) -> None:
    """Resource sources, proxies and Tang URLs: Go's net/url and the data URL library's verdicts."""
    urls = DATA_URLS + _random_urls(300)
    inputs = [json.dumps({"ignition": {"version": "3.3.0", "proxy": {"httpsProxy": u}}, "storage": {
        "files": [{"path": "/a", "contents": {"source": u}}],
        "luks": [{"name": "l", "device": "/dev/a", "clevis": {"tang": [{"url": u, "thumbprint": "t"}]}}]}}).encode()
        for u in urls]
    results = run_all(oracle, inputs, tmp_path)
    # Each place of a URL the real validator accepts passes the editor schema's pattern there.
    places: dict[str, Any] = {
        "$.ignition.proxy.httpsProxy": lambda u: {"ignition": {"version": "3.3.0", "proxy": {"httpsProxy": u}}},
        "$.storage.files.0.contents.source": lambda u: {"ignition": {"version": "3.3.0"}, "storage": {
            "files": [{"path": "/a", "contents": {"source": u}}]}},
        "$.storage.luks.0.clevis.tang.0.url": lambda u: {"ignition": {"version": "3.3.0"}, "storage": {
            "luks": [{"name": "l", "device": "/dev/a", "clevis": {"tang": [{"url": u, "thumbprint": "t"}]}}]}},
    }
    accepted = 0
    for url, raw, (rc, out) in zip(urls, inputs, results):
        report = validate(raw)
        assert (report.ok, sorted(report.lines())) == (rc == 0, sorted(out.splitlines())), url
        rejected = {e.path for e in report.errors}  # the same lines as ignition-validate's (asserted above)
        for place, build in places.items():
            if place not in rejected:
                accepted += 1
                assert not complaints("3.3.0", json.dumps(build(url))), (place, url)
    assert accepted >= 20


def _unit_cases() -> list[str]:
    import random

    rnd = random.Random(20260723)
    pieces = ["[Unit]", "[Install]", "[Service]", "\n", "\n", "A=b", "WantedBy=x", " ", "\t", "#c", ";c", "\\", "\r",
              "=", "[", "]", "x", "Foo=bar \\", " junk", "\n\n", "[Unit] x", "\u00e9", "\v"]
    cases = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12))) for _ in range(150)]
    # go-systemd refuses 2048 bytes in its read buffer without a line break
    for n in (2046, 2047, 2048, 4094, 4096):
        cases += ["[Unit]\nA=" + "x" * n, "#" + "x" * n + "\n[Unit]\n", "x" * n + "[Unit]",
                  "[Unit]\n" + "A=b\n" * (n // 4) + "C=" + "d" * 2040 + "\n", "\u00e9" * n + "\n[Unit]"]
    return cases


def test_unit_contents_match(oracle: Oracle, tmp_path: Path) -> None:
    cases = _unit_cases()
    inputs = [json.dumps({"ignition": {"version": "3.3.0"}, "systemd": {"units": [
        {"name": "a.service", "enabled": i % 2 == 0, "contents": text,
         "dropins": [{"name": "x.conf", "contents": text[::-1]}]}]}}).encode() for i, text in enumerate(cases)]
    results = run_all(oracle, inputs, tmp_path)
    for text, raw, (rc, out) in zip(cases, inputs, results):
        report = validate(raw)
        assert (report.ok, sorted(report.lines())) == (rc == 0, sorted(out.splitlines())), text[:80]
