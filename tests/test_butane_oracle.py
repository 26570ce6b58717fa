"""Differential tests of ``ignkit.butane`` against upstream Butane (``butane`` built from source).

The documented examples of Butane's docs/examples.md (written out here, at their documented version and at
newer ones) and the variants' sugar are translated by both; verdicts must agree, outputs must be equal as
data, and the agreement of messages is printed as a figure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from butane_diff import Tally, compare
from conftest import BUTANE_ORACLE

pytestmark = pytest.mark.skipif(not BUTANE_ORACLE.is_file(), reason=f"butane oracle not found at {BUTANE_ORACLE}")

V = "variant: fcos\nversion: {v}\n"

# (name, versions, body) -- the examples of Butane's documentation, one document per version
EXAMPLES: list[tuple[str, tuple[str, ...], str]] = [
    ("core ssh key", ("1.1.0", "1.5.0", "1.7.0"), """\
passwd:
  users:
    - name: core
      ssh_authorized_keys:
        - key1
"""),
    ("user with groups and shell", ("1.1.0", "1.6.0"), """\
passwd:
  users:
    - name: user1
      ssh_authorized_keys:
        - key1
      home_dir: /home/user1
      no_create_home: true
      groups:
        - wheel
        - plugdev
      shell: /bin/bash
"""),
    ("password hash", ("1.1.0", "1.7.0"), """\
passwd:
  users:
    - name: user1
      ssh_authorized_keys:
        - key1
      password_hash: $y$j9T$aUmgEDoFIDPhGxEe2FUjc/$C5A...
      home_dir: /home/user1
      no_create_home: true
      groups:
        - wheel
        - plugdev
      shell: /bin/bash
"""),
    ("inline file", ("1.0.0", "1.1.0", "1.5.0", "1.8.0-experimental"), """\
storage:
  files:
    - path: /opt/file
      contents:
        inline: Hello, world!
      mode: 0644
      user:
        id: 500
      group:
        id: 501
"""),
    ("remote gzip file", ("1.1.0", "1.6.0"), """\
storage:
  files:
    - path: /opt/file2
      contents:
        source: http://example.com/file2
        compression: gzip
        verification:
          hash: sha512-4ee6a9d20cc0e6c7ee187daffa6822bdef7f4cebe109eff44b235f97e45dc3d7a5bb932efc841192e46618f48a6f4f5bc0d15fd74b1038abf46bf4b4fd409f2e
      mode: 0644
"""),
    ("local file", ("1.1.0", "1.7.0"), """\
storage:
  files:
    - path: /opt/file3
      contents:
        local: local-file3
      mode: 0644
"""),
    ("tree", ("1.1.0", "1.4.0", "1.7.0"), """\
storage:
  trees:
    - local: tree
      path: /etc/files
  files:
    - path: /etc/files/overridden-file
      mode: 0600
      user:
        id: 500
      group:
        id: 501
"""),
    ("tree with modes and owner", ("1.7.0", "1.8.0-experimental"), """\
storage:
  trees:
    - local: tree
      path: /etc/files
      file_mode: 0600
      dir_mode: 0700
      user:
        name: core
      group:
        id: 1000
"""),
    ("var partition with mount unit", ("1.1.0", "1.5.0", "1.6.0"), """\
storage:
  disks:
    - device: /dev/sdb
      wipe_table: true
      partitions:
        - number: 1
          label: var
  filesystems:
    - path: /var
      device: /dev/disk/by-partlabel/var
      format: btrfs
      wipe_filesystem: true
      label: var
      with_mount_unit: true
"""),
    ("swap", ("1.4.0-experimental", "1.4.0", "1.7.0"), """\
storage:
  disks:
    - device: /dev/sdb
      wipe_table: true
      partitions:
        - number: 1
          label: swap
  filesystems:
    - device: /dev/disk/by-partlabel/swap
      format: swap
      wipe_filesystem: true
      with_mount_unit: true
"""),
    ("luks volumes", ("1.2.0", "1.5.0", "1.6.0"), """\
storage:
  luks:
    - name: static-key-example
      device: /dev/sdb
      key_file:
        inline: REPLACE-THIS-WITH-YOUR-KEY-MATERIAL
    - name: tpm-example
      device: /dev/sdc
      clevis:
        tpm2: true
    - name: tang-example
      device: /dev/sdd
      clevis:
        tang:
          - url: https://tang.example.com
            thumbprint: REPLACE-THIS-WITH-YOUR-TANG-THUMBPRINT
  filesystems:
    - path: /var/lib/static_key_example
      device: /dev/disk/by-id/dm-name-static-key-example
      format: ext4
      label: STATIC-EXAMPLE
      with_mount_unit: true
    - path: /var/lib/tpm_example
      device: /dev/disk/by-id/dm-name-tpm-example
      format: ext4
      label: TPM-EXAMPLE
      with_mount_unit: true
    - path: /var/lib/tang_example
      device: /dev/disk/by-id/dm-name-tang-example
      format: ext4
      label: TANG-EXAMPLE
      with_mount_unit: true
"""),
    ("boot_device luks tpm2 + tang", ("1.3.0", "1.5.0", "1.6.0", "1.7.0"), """\
boot_device:
  luks:
    tpm2: true
    tang:
      - url: https://tang.example.com
        thumbprint: REPLACE-THIS-WITH-YOUR-TANG-THUMBPRINT
"""),
    ("boot_device luks with ext4 root", ("1.3.0", "1.6.0"), """\
boot_device:
  luks:
    tpm2: true
storage:
  filesystems:
    - device: /dev/mapper/root
      format: ext4
"""),
    ("mirrored boot disk", ("1.3.0", "1.7.0"), """\
boot_device:
  mirror:
    devices:
      - /dev/sda
      - /dev/sdb
"""),
    ("mirrored boot disk with layout", ("1.3.0", "1.5.0", "1.7.0"), """\
boot_device:
  layout: aarch64
  mirror:
    devices:
      - /dev/sda
      - /dev/sdb
"""),
    ("ppc64le mirror", ("1.3.0", "1.6.0"), """\
boot_device:
  layout: ppc64le
  mirror:
    devices: [/dev/sda, /dev/sdb, /dev/sdc]
"""),
    ("mirror + tpm2 + var raid", ("1.3.0", "1.5.0", "1.6.0"), """\
boot_device:
  layout: x86_64
  luks:
    tpm2: true
  mirror:
    devices:
      - /dev/sda
      - /dev/sdb
storage:
  disks:
    - device: /dev/sda
      partitions:
        - label: root-1
          size_mib: 8192
        - label: var-1
    - device: /dev/sdb
      partitions:
        - label: root-2
          size_mib: 8192
        - label: var-2
  raid:
    - name: md-var
      level: raid1
      devices:
        - /dev/disk/by-partlabel/var-1
        - /dev/disk/by-partlabel/var-2
  filesystems:
    - device: /dev/md/md-var
      path: /var
      format: xfs
      wipe_filesystem: true
      with_mount_unit: true
"""),
    ("luks discard and cex on s390x", ("1.6.0", "1.7.0"), """\
boot_device:
  layout: s390x-eckd
  luks:
    device: /dev/dasda
    discard: true
    cex:
      enabled: true
"""),
    ("getty autologin drop-in", ("1.1.0", "1.5.0"), """\
systemd:
  units:
    - name: serial-getty@ttyS0.service
      dropins:
        - name: autologin.conf
          contents: |
            [Service]
            TTYVTDisallocate=no
            ExecStart=
            ExecStart=-/usr/sbin/agetty --autologin core --noclear %I $TERM
"""),
    ("hello unit", ("1.0.0", "1.1.0", "1.7.0"), """\
systemd:
  units:
    - name: hello.service
      enabled: true
      contents: |
        [Unit]
        Description=A hello world unit!
        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/usr/bin/echo "Hello, World!"
        [Install]
        WantedBy=multi-user.target
"""),
    ("unit contents_local", ("1.5.0", "1.7.0"), """\
systemd:
  units:
    - name: local.service
      enabled: true
      contents_local: units/local.service
      dropins:
        - name: x.conf
          contents_local: units/x.conf
"""),
    ("ssh keys from files", ("1.5.0", "1.7.0"), """\
passwd:
  users:
    - name: core
      ssh_authorized_keys:
        - inline-key
      ssh_authorized_keys_local:
        - ssh/keys
"""),
    ("grub password", ("1.5.0", "1.6.0", "1.7.0"), """\
grub:
  users:
    - name: root
      password_hash: grub.pbkdf2.sha512.10000.874A958E526409...
"""),
    ("kernel arguments", ("1.4.0", "1.7.0"), """\
kernel_arguments:
  should_exist:
    - foo=bar
    - baz
  should_not_exist:
    - mitigations=auto,nosmt
"""),
    ("merge local ignition", ("1.2.0", "1.5.0"), """\
ignition:
  config:
    merge:
      - local: child.ign
      - source: https://example.com/base.ign
"""),
    ("replace inline ignition", ("1.5.0",), """\
ignition:
  config:
    replace:
      inline: '{"ignition": {"version": "3.4.0"}}'
"""),
    ("ca bundle local", ("1.2.0", "1.6.0"), """\
ignition:
  security:
    tls:
      certificate_authorities:
        - local: ca.pem
  proxy:
    https_proxy: https://proxy.example.com:3128
    no_proxy: [example.com]
  timeouts:
    http_total: 60
"""),
    ("big text file gzipped", ("1.4.0", "1.7.0"), """\
storage:
  files:
    - path: /etc/big.conf
      contents:
        local: big.conf
    - path: /etc/bin
      contents:
        local: random.bin
    - path: /etc/user-compressed
      contents:
        inline: already compressed text
        compression: gzip
"""),
    ("directories and links", ("1.0.0", "1.4.0", "1.7.0"), """\
storage:
  directories:
    - path: /etc/d
      mode: 0750
      user: {name: core}
  links:
    - path: /etc/l
      target: /etc/d
      hard: false
"""),
]

INVALID: list[tuple[str, str]] = [
    ("unknown key", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /a\n      foo: 1\n"),
    ("relative path", V.format(v="1.5.0") + "storage:\n  files:\n    - path: a\n"),
    ("type error", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /a\n      mode: abc\n"),
    ("several type errors", V.format(v="1.6.0") + "storage:\n  files:\n    - path: /c\n      overwrite: 1\n      user: []\n"
                                                  "      mode: \"12\"\n"),
    ("no variant", "version: 1.4.0\n"),
    ("no version", "variant: fcos\n"),
    ("bad semver", "variant: fcos\nversion: 1.4\n"),
    ("unknown version", "variant: fcos\nversion: 1.9.0\n"),
    ("unknown variant", "variant: foo\nversion: 1.0.0\n"),
    ("yaml syntax", V.format(v="1.5.0") + "storage: [\n"),
    ("yaml mapping value", "a: b: c\n"),
    ("duplicate key", "variant: fcos\nvariant: fcos\n"),
    ("duplicate nested key", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /a\n      path: /b\n"),
    ("list root", "[]\n"),
    ("empty", ""),
    ("decimal mode", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /a\n      mode: 644\n"),
    ("too many sources", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /a\n      contents:\n        inline: a\n"
                                               "        source: http://x\n"),
    ("both contents", V.format(v="1.5.0") + "systemd:\n  units:\n    - name: a.service\n      contents: x\n"
                                            "      contents_local: y\n"),
    ("mount unit no format", V.format(v="1.5.0") + "storage:\n  filesystems:\n    - device: /dev/sda\n"
                                                   "      with_mount_unit: true\n"),
    ("mount unit no path", V.format(v="1.5.0") + "storage:\n  filesystems:\n    - device: /dev/sda\n      format: ext4\n"
                                                 "      with_mount_unit: true\n"),
    ("mount point outside /etc /var", V.format(v="1.6.0") + "storage:\n  filesystems:\n    - device: /dev/sda\n"
                                                            "      format: ext4\n      path: /opt\n      with_mount_unit: true\n"),
    ("tree without local", V.format(v="1.5.0") + "storage:\n  trees:\n    - path: /x\n"),
    ("local without files-dir", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /a\n      contents:\n"
                                                      "        local: x\n"),
    ("bad layout", V.format(v="1.5.0") + "boot_device:\n  layout: foo\n  luks:\n    tpm2: true\n"),
    ("bad layout new", V.format(v="1.6.0") + "boot_device:\n  layout: foo\n  luks:\n    tpm2: true\n"),
    ("one mirror device", V.format(v="1.3.0") + "boot_device:\n  mirror:\n    devices: [/dev/sda]\n"),
    ("s390x without device", V.format(v="1.6.0") + "boot_device:\n  layout: s390x-eckd\n  luks:\n    tpm2: true\n"),
    ("s390x bad device", V.format(v="1.6.0") + "boot_device:\n  layout: s390x-zfcp\n  luks:\n    device: /dev/dasda\n"
                                               "    tpm2: true\n"),
    ("cex with clevis", V.format(v="1.6.0") + "boot_device:\n  layout: x86_64\n  luks:\n    tpm2: true\n    cex:\n"
                                              "      enabled: true\n"),
    ("grub user without hash", V.format(v="1.5.0") + "grub:\n  users:\n    - name: root\n    - password_hash: x\n"),
    ("root too small", V.format(v="1.5.0") + "storage:\n  disks:\n    - device: /dev/sdb\n      partitions:\n"
                                             "        - label: root\n          size_mib: 100\n        - label: boot\n"),
    ("root constrained", V.format(v="1.6.0") + "storage:\n  disks:\n    - device: /dev/disk/by-id/coreos-boot-disk\n"
                                               "      partitions:\n        - label: root\n        - label: x\n"),
    ("duplicate file", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /a\n    - path: /a\n"),
    ("overwrite without source", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /b\n      overwrite: yes\n"),
    ("unit name", V.format(v="1.5.0") + "systemd:\n  units:\n    - name: foo\n      contents: x\n"),
    ("merge bad json", V.format(v="1.5.0") + "ignition:\n  config:\n    merge:\n      - inline: '{'\n"),
    ("merge other version", V.format(v="1.5.0") + "ignition:\n  config:\n    merge:\n"
                                                  "      - inline: '{\"ignition\": {\"version\": \"3.1.0\"}}'\n"),
    ("sticky bit before 3.6", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /a\n      mode: 01644\n"),
    ("yes/on booleans", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /a\n      overwrite: no\n"
                                              "      contents:\n        inline: 'on'\n"),
    ("numbers as strings", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /123\n      mode: 0o644\n"
                                                 "      user: {id: 0x10, name: true}\n      group: {id: 1_000}\n"),
    ("float mode", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /a\n      mode: 420.7\n"),
    ("binary inline", V.format(v="1.5.0") + "storage:\n  files:\n    - path: /a\n      contents:\n"
                                            "        inline: !!binary aGVsbG8=\n"),
]

OS = "variant: openshift\nversion: {v}\nmetadata:\n  name: m\n  labels:\n    machineconfiguration.openshift.io/role: worker\n"
OPENSHIFT: list[tuple[str, tuple[str, ...], str, bool]] = [
    ("machineconfig with extras", ("4.8.0", "4.14.0", "4.19.0", "4.22.0", "4.23.0-experimental"), """\
openshift:
  kernel_arguments: [loglevel=7]
  extensions: [usbguard]
  fips: true
  kernel_type: realtime
storage:
  files:
    - path: /etc/a
      contents:
        inline: hi
      mode: 0644
systemd:
  units:
    - name: a.service
      enabled: true
      contents: "[Service]\\nExecStart=/bin/true\\n"
""", False),
    ("raw", ("4.10.0", "4.16.0", "4.21.0"), """\
storage:
  files:
    - path: /etc/a
      contents:
        inline: hi
""", True),
    ("raw with ignored fields", ("4.14.0",), """\
openshift:
  fips: true
  kernel_arguments: [a]
storage:
  luks:
    - name: a
      device: /dev/x
    - name: b
      device: /dev/y
      options: [-c, foo]
""", True),
    ("fips luks", ("4.14.0", "4.20.0"), """\
openshift:
  fips: true
boot_device:
  luks:
    tpm2: true
""", False),
    ("forbidden fields", ("4.8.0", "4.12.0", "4.13.0", "4.14.0", "4.22.0"), """\
storage:
  files:
    - path: /etc/a
      contents:
        source: data:,x
        http_headers: [{name: a, value: b}]
      append:
        - inline: x
  directories:
    - path: /d
  links:
    - path: /l
      target: /x
passwd:
  users:
    - name: core
      shell: /bin/sh
      password_hash: x
  groups:
    - name: g
""", False),
    ("rhcos refusals", ("4.14.0",), """\
storage:
  files:
    - path: /etc/a
      mode: 04755
      contents:
        source: http://x
  filesystems:
    - device: /dev/sdb
      format: btrfs
passwd:
  users:
    - name: bob
""", False),
    ("grub on openshift", ("4.14.0", "4.22.0"), """\
grub:
  users:
    - name: root
      password_hash: grub.pbkdf2.sha512.10000.874A958E526409
""", False),
    ("kernel type", ("4.14.0", "4.19.0"), "openshift:\n  kernel_type: 64k-pages\n", False),
    ("bad kernel type", ("4.8.0", "4.14.0"), "openshift:\n  kernel_type: foo\n", False),
]


@pytest.fixture(scope="module")
def files_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("butane-files")
    (d / "local-file3").write_text("from a local file\n")
    tree = d / "tree"
    (tree / "directory").mkdir(parents=True)
    (tree / "file").write_text("file\n")
    (tree / "overridden-file").write_text("overridden\n")
    (tree / "exec").write_text("#!/bin/sh\n")
    (tree / "exec").chmod(0o755)
    (tree / "directory" / "file").write_text("nested " * 50)
    os.symlink("../file", tree / "directory" / "symlink")
    (d / "units").mkdir()
    (d / "units" / "local.service").write_text("[Service]\nExecStart=/bin/true\n")
    (d / "units" / "x.conf").write_text("[Unit]\nAfter=network.target\n")
    (d / "ssh").mkdir()
    (d / "ssh" / "keys").write_text("ssh-ed25519 AAAA one\r\n\nssh-rsa BBBB two\n")
    (d / "child.ign").write_text('{"ignition": {"version": "3.2.0"}}')
    (d / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    (d / "big.conf").write_text("".join(f"option{i % 7} = value {i % 5}\n" for i in range(400)))
    (d / "random.bin").write_bytes(bytes((i * 7919 + 13) % 251 for i in range(300)))
    return d


def _run(tally: Tally, doc: str, **kw: object) -> None:
    mine, theirs = compare(doc, **kw)  # type: ignore[arg-type]
    tally.add(doc, mine, theirs)


def _report(tally: Tally, name: str) -> None:
    print("\n" + tally.figures(name))
    for doc, mine, theirs in tally.mismatches[:8]:
        print("--- mismatch:\n" + doc + f"ours:   {mine.verdict} {mine.lines} {mine.reason!r}\n"
              f"butane: {theirs.verdict} {theirs.lines} {theirs.reason!r}")


def test_documented_examples(files_dir: Path) -> None:
    tally = Tally()
    for _name, versions, body in EXAMPLES:
        for v in versions:
            _run(tally, V.format(v=v) + body, files_dir=str(files_dir))
    _report(tally, "documented fcos examples")
    assert tally.verdicts == tally.n
    assert tally.outputs == tally.outputs_n
    assert tally.messages == tally.n


def test_invalid_documents(files_dir: Path) -> None:
    tally = Tally()
    for _name, doc in INVALID:
        _run(tally, doc)
        _run(tally, doc, strict=True)
    _report(tally, "invalid and edge documents (also with --strict)")
    assert tally.verdicts == tally.n
    assert tally.outputs == tally.outputs_n
    assert tally.messages == tally.n


def test_openshift(files_dir: Path) -> None:
    tally = Tally()
    for _name, versions, body, raw in OPENSHIFT:
        for v in versions:
            _run(tally, OS.format(v=v) + body, files_dir=str(files_dir), raw=raw)
    _report(tally, "openshift documents")
    assert tally.verdicts == tally.n
    assert tally.outputs == tally.outputs_n
    assert tally.messages == tally.n


def test_data_url_encoding_against_butane(tmp_path: Path) -> None:
    """600 local files of every kind near the thresholds: every data URL (percent-encoded, base64 or gzip)
    and its ``compression`` must be Butane's byte for byte, the encoding choice included."""
    import json
    import random
    import subprocess

    from ignkit.butane.translate import to_json, translate

    rnd = random.Random(3)
    words = [b"alpha ", b"beta ", b"x", b"\n", b"node", b"=", b"0", b"zz", b"%", b"\xc3\xa9"]
    datas = []
    for i in range(600):
        n = rnd.randint(0, 400)
        kind = i % 4
        if kind == 0:
            d = b"".join(rnd.choice(words) for _ in range(n))
        elif kind == 1:
            d = rnd.randbytes(n)
        elif kind == 2:
            d = bytes(rnd.choice(b"abcdefgh") for _ in range(n))
        else:
            d = (rnd.randbytes(rnd.randint(3, 40)) * (n // 10 + 1))[:n]
        (tmp_path / str(i)).write_bytes(d)
        datas.append(d)
    doc = "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n" + "".join(
        f"    - path: /f{i}\n      contents:\n        local: '{i}'\n" for i in range(600))
    theirs = json.loads(subprocess.run([str(BUTANE_ORACLE), "-d", str(tmp_path)], input=doc.encode(),
                                       capture_output=True, check=True).stdout)["storage"]["files"]
    cfg, _ = translate(doc, files_dir=str(tmp_path))
    mine = json.loads(to_json(cfg, "3.4.0"))["storage"]["files"]
    same = sum(a["contents"] == b["contents"] for a, b in zip(mine, theirs))
    gz = sum(b["contents"]["compression"] == "gzip" for b in theirs)
    print(f"\ndata URLs: {len(datas)} files ({gz} gzip); identical to butane's {same}/{len(datas)} "
          f"({100.0 * same / len(datas):.1f}%)")
    assert gz >= 100
    assert same == len(datas)

# A mirrored boot disk that storage.disks lists too: Butane merges the user's disk into the generated one (the
# Ignition merge, keyed by device) and reports findings at the user's source path when the merged value came
# from it, at the JSON path otherwise. Duplicate devices on either side, extra partitions, lints on the merged
# partitions, with and without LUKS.
_MIRROR_DISKS = {
    "no partitions": "storage:\n  disks:\n    - device: /dev/sda\n",
    "wipe_table false": "storage:\n  disks:\n    - device: /dev/sda\n      wipe_table: false\n",
    "label, no number": "storage:\n  disks:\n    - device: /dev/sda\n      partitions:\n        - label: var\n"
                        "          size_mib: 100\n",
    "generated label": "storage:\n  disks:\n    - device: /dev/sdb\n      partitions:\n        - label: root-2\n"
                       "          size_mib: 10000\n",
    "other disk": "storage:\n  disks:\n    - device: /dev/sdc\n      partitions:\n        - label: root-1\n",
    "number 1": "storage:\n  disks:\n    - device: /dev/sda\n      partitions:\n        - number: 1\n"
                "          label: x\n",
    "number 5": "storage:\n  disks:\n    - device: /dev/sda\n      partitions:\n        - number: 5\n",
    "both disks": "storage:\n  disks:\n    - device: /dev/sda\n    - device: /dev/sdb\n      wipe_table: true\n",
    "listed twice": "storage:\n  disks:\n    - device: /dev/sda\n    - device: /dev/sda\n",
    "empty partition": "storage:\n  disks:\n    - device: /dev/sda\n      partitions:\n        - {}\n",
    "root label": "storage:\n  disks:\n    - device: /dev/sda\n      partitions:\n        - label: root\n",
    "small root": "storage:\n  disks:\n    - device: /dev/sdc\n      partitions:\n        - label: root\n"
                  "          size_mib: 100\n",
}
_MIRRORS = {
    "two": "boot_device:\n  layout: x86_64\n  mirror:\n    devices: [/dev/sda, /dev/sdb]\n",
    "same twice": "boot_device:\n  layout: aarch64\n  mirror:\n    devices: [/dev/sda, /dev/sda]\n",
    "no layout": "boot_device:\n  mirror:\n    devices: [/dev/sda, /dev/sdb]\n",
    "with luks": "boot_device:\n  layout: ppc64le\n  luks:\n    tpm2: true\n  mirror:\n    devices: [/dev/sdb, /dev/sda]\n",
}


def test_mirrored_boot_disk_also_in_storage_disks() -> None:
    tally = Tally()
    for variant, version, raw in (("fcos", "1.3.0", False), ("fcos", "1.5.0", False), ("fcos", "1.6.0", False),
                                  ("openshift", "4.14.0", False), ("openshift", "4.20.0", True)):
        for mirror in _MIRRORS.values():
            for disks in _MIRROR_DISKS.values():
                doc = f"variant: {variant}\nversion: {version}\n" + mirror + disks
                if variant == "openshift":
                    doc += "metadata:\n  name: m\n  labels:\n    machineconfiguration.openshift.io/role: worker\n"
                _run(tally, doc, raw=raw)
    _report(tally, "mirrored boot disk also under storage.disks")
    assert tally.verdicts == tally.n
    assert tally.outputs == tally.outputs_n
    assert tally.messages == tally.n


# Where a finding about the translated config is reported: Butane maps it back through its translation set, which
# has value fields of Ignition's structs even when the source leaves them out, pointer fields and lists only when
# given, structs only when not empty -- and, once sugar was merged in (mount units, boot_device, grub), only
# values that are not Go zero values. Unmapped paths are printed as JSON paths (MachineConfig paths for openshift).
_PATHS = [
    "storage:\n  files:\n    - path: /etc/a\n    - path: /etc/a\n      contents:\n        verification: {}\n"
    "        inline: x\n    - {}\nsystemd:\n  units:\n    - name: a.service\n    - name: a.service\n    - {}\n"
    "    - name: b.service\n      dropins:\n        - {}\n        - name: x.conf\n          contents: \"[Unit]\"\n"
    "        - name: x.conf\n",
    "storage:\n  disks:\n    - device: /dev/sda\n    - device: /dev/sda\n      partitions:\n        - label: x\n"
    "          number: 0\n        - number: 1\n        - number: 1\n  raid:\n    - name: a\n  luks:\n    - name: \"\"\n",
    "storage:\n  luks:\n    - name: x\n      device: \"\"\n      label: \"\"\n    - name: x\n",
    "storage:\n  luks:\n    - wipe_volume: false\n    - wipe_volume: false\n",
    "storage:\n  filesystems:\n    - device: \"\"\n      format: \"\"\n  files:\n    - path: \"\"\n",
    "storage:\n  raid:\n    - name: a\n      devices: [/dev/x, /dev/y]\n",
    "storage:\n  disks:\n    - device: \"\"\n      partitions: [{}]\n",
]


def test_translation_paths_of_findings() -> None:
    tally = Tally()
    for version in ("4.11.0", "4.13.0", "4.14.0", "4.20.0"):
        for body in _PATHS:
            for raw in (False, True):
                _run(tally, OS.format(v=version) + body, raw=raw)
    _report(tally, "finding paths through the translation set")
    assert tally.verdicts == tally.n
    assert tally.messages == tally.n


_H = "sha512-" + "0" * 128
# Corners the generator found against the oracle (each fixed in ignkit.butane): (variant/version header, body)
_CORNERS: list[tuple[str, str]] = [
    # fcos 1.0.0 (Butane's base v0_1) percent-encodes every file, writes no compression, keeps the user's
    (V.format(v="1.0.0"), "storage:\n  files:\n    - path: /a\n      contents:\n        inline: \""
                          + "hello " * 40 + "\"\n    - path: /c\n      contents:\n        inline: \"x y \\u00fc%/?#[]!$&'()*+,;=:@~\\n\"\n"
                          "    - path: /d\n      contents:\n        inline: abc\n        compression: gzip\n"),
    (V.format(v="1.7.0"), "boot_device:\n  luks:\n    device: /dev/sda\n    tang: []\n"),  # no LUKS method
    (V.format(v="1.8.0-experimental"), "boot_device:\n  luks:\n    device: /dev/sda\n    tpm2: false\n"),
    (V.format(v="1.7.0"), "boot_device:\n  luks:\n    device: /dev/sda\n    cex: {enabled: true}\n"),
    (OS.format(v="4.18.0"), "openshift:\n  extensions: [a, a, b, a]\n  kernel_arguments: [x, x]\n"),
    (OS.format(v="4.19.0"), "boot_device:\n  layout: s390x-eckd\n  luks:\n    device: /dev/dasda\n"
                            "    cex:\n      enabled: true\nopenshift:\n  fips: true\n"),
    (OS.format(v="4.20.0"), "boot_device:\n  layout: s390x-eckd\n  luks:\n    device: /dev/dasda\n"
                            "    cex:\n      enabled: true\nopenshift:\n  kernel_arguments: [rd.luks.key=/etc/luks/cex.key]\n"),
    (OS.format(v="4.10.0"), "storage:\n  filesystems:\n  - device: /dev/sda\n    format: none\n  - {}\n"),
    (OS.format(v="4.20.0"), "storage:\n  filesystems:\n  - device: /dev/sda\n    format: none\n"),
    (OS.format(v="4.11.0"), "storage:\n  filesystems:\n  - with_mount_unit: true\n"),
    (V.format(v="1.3.0"), "storage:\n  filesystems:\n  - with_mount_unit: true\n    format: swap\n    device: /dev/sda\n"),
    (OS.format(v="4.13.0"), "storage:\n  files: [{}, {}]\nsystemd:\n  units: [{}, {}]\n"),
    (OS.format(v="4.16.0"), "storage:\n  directories: [{unknown_key: 1}, {}]\n"),
    (OS.format(v="4.9.0"), "ignition:\n  security:\n    tls:\n      certificate_authorities:\n"
                           "      - verification: {}\n        http_headers: []\n"),
    (OS.format(v="4.22.0"), "boot_device:\n  luks:\n    tang:\n    - thumbprint: 'true'\n      url: not a url\n"
                            "      advertisement: '0644'\n    - {}\n    tpm2: true\n"),
    (V.format(v="1.7.0"), "boot_device:\n  layout: s390x-virt\n  luks:\n    device: /dev/vda\n    tang:\n    - {}\n"
                          "    - thumbprint: 'yes'\n"),
    (V.format(v="1.0.0"), "storage:\n  directories:\n  - mode: 755\n    path: /a\n  files:\n  - mode: 755\n    path: /c\n"),
    (V.format(v="1.0.0"), f"ignition:\n  config:\n    merge:\n    - verification: {{hash: {_H}}}\n"
                          f"    replace:\n      verification: {{hash: {_H}}}\n"),
    (V.format(v="1.0.0"), "ignition:\n  config:\n    merge:\n    - inline: x\n"),
    (OS.format(v="4.13.0"), "storage:\n  luks:\n  - name: a\n    options: [{k: 1}]\n"),  # v0_3.LuksOption
    (V.format(v="1.0.0"), "storage:\n  filesystems:\n  - device: /dev/a\n    options: [{k: 1}]\n"),
    (V.format(v="1.5.0"), "storage:\n  raid:\n  - name: a\n    options: [{k: 1}]\n"),
    ("variant: flatcar\nversion: 1.2.0-experimental\n", "storage:\n  luks:\n  - name: a\n    device: /dev/sda\n"
     "    cex:\n      enabled: false\n"),
    (V.format(v="1.6.0"), "storage:\n  disks:\n  - device: /dev/sda\n    partitions:\n    - {label: a, should_exist: false}\n"
     "    - {number: 2}\n"),
    (OS.format(v="4.19.0"), "storage:\n  disks:\n  - device: /dev/mapper/root\n    partitions:\n"
     "    - {should_exist: false, number: 5}\n    - {size_mib: 100}\n"),
    (OS.format(v="4.23.0-experimental"), "grub:\n  users:\n  - name: root\n    password_hash: grub.pbkdf2.sha512.10000.AA\n"
     "storage:\n  files:\n  - path: /boot/grub2/user.cfg\n    contents:\n      inline: hi\n"),
    (OS.format(v="4.22.0"), "grub:\n  users:\n  - name: root\n    password_hash: grub.pbkdf2.sha512.10000.AA\n"
     "storage:\n  files:\n  - path: /boot/grub2/user.cfg\n    mode: 0600\n"),
    (V.format(v="1.5.0"), "storage:\n  filesystems:\n  - device: /dev/sda\n  disks:\n  - device: /dev/sda\n"
     "    wipe_table: true\n  - device: /dev/sda\n    wipe_table: false\n"),
    (V.format(v="1.8.0-experimental"), "boot_device:\n  layout: x86_64\n  luks:\n    device: /dev/sda\n"
     "    tang: [{}, {}]\n    cex: {}\n"),
    ("variant: flatcar\nversion: 1.0.0\n", "storage:\n  directories:\n  - path: relative\n  links:\n  - {}\n"
     "  - hard: true\n    target: relative\n"),
    (V.format(v="1.1.0"), "storage:\n  links:\n  - path: /etc/a\n"),  # spec 3.1: target is no pointer
    (OS.format(v="4.15.0"), "ignition:\n  proxy:\n    no_proxy: ['', '']\n    https_proxy: a\n"),
    (OS.format(v="4.9.0"), "storage:\n  files:\n  - path: /etc/a\n    mode: 01644\n"),  # no special-mode check yet
    (OS.format(v="4.10.0"), "storage:\n  files:\n  - path: /etc/a\n    mode: 01644\n"),
    (OS.format(v="4.22.0"), "storage:\n  files:\n  - path: /etc/a\n    contents:\n      source: ''\n"),
    (V.format(v="1.3.0"), "storage:\n  luks:\n  - name: a\n    device: /dev/sda\n    clevis:\n      custom: {}\n"
     "      tpm2: true\n"),
    (V.format(v="1.2.0"), "storage:\n  luks:\n  - name: a\n    device: /dev/sda\n    clevis: {}\n"),
] + [(V.format(v="1.5.0"), "storage:\n  files:\n    - path: /a\nignition:\n  config:\n    replace:\n      inline: "
      + inline + "\n") for inline in (
    "''", "'{}'", "'[]'", "'{\"ignition\": []}'", "'{\"ignition\": {\"version\": 5}}'", "'{\"ignition\": {\"version\": \"abc\"}}'",
    "'{\"ignition\": {\"version\": \"3.4.0\"}, \"foo\": 1}'", "'{\"ignition\": {\"version\": \"9.9.9\"}}'",
    "'{\"ignition\": {\"version\": \"3.4.0\"}, \"storage\": {\"files\": [{\"path\": \"rel\"}]}}'",
    "'{\"ignition\": {\"version\": \"abc\"}, \"storage\": {\"files\": [{\"path\": \"rel\"}]}, \"x\": 1}'")]


def test_generator_corners() -> None:
    tally = Tally()
    for head, body in _CORNERS:
        for raw in ((False, True) if "openshift" in head else (False,)):
            _run(tally, head + body, raw=raw)
    _report(tally, "corners found by the generator")
    assert tally.verdicts == tally.n
    assert tally.outputs == tally.outputs_n
    assert tally.messages == tally.n
