"""``embed --hosts --one-image``: the same rack image booted in qemu with two inventory MACs and an unknown one.

The boot suite's x86_64 kernel and live initramfs are booted directly (``-kernel``/``-initrd``) with a
virtio NIC carrying the chosen MAC. A test layer appended to the initramfs plays Ignition's part -- the
rack image's live-config files, as ``embed --one-image`` wrote them into the ISO, are put in place -- plus
the virtio-net modules and an ``/init`` that runs ignkit's shipped selection script as the unit would
and reports the host name, keyfiles and installer config it left behind on the serial port.
"""

from __future__ import annotations

import base64
import subprocess
import time
from pathlib import Path

import pytest
from bootlab import ignkit

from ignkit.live.customize import read_customization
from ignkit.live.image import open_iso
from ignkit.live.oneimage import SCRIPT_PATH
from ignkit.netconf import parse_keyfile

pytestmark = pytest.mark.boot

HOSTS = """\
hosts:
  - hostname: rack-a
    rootDeviceHints:
      deviceName: /dev/sda
    interfaces:
      - name: eno1
        macAddress: 52:54:00:0a:00:01
    keyfiles:
      eno1.nmconnection: |
        [connection]
        id=eno1
        type=ethernet
        interface-name=eno1

        [ipv4]
        method=manual
        address1=192.0.2.11/24,192.0.2.1
  - hostname: rack-b
    mac: 52:54:00:0b:00:02
    install_dev: /dev/vdb
    ip: 192.0.2.12/24
    gateway: 192.0.2.1
    console: ttyS0,115200n8
    kargs: nosmt
"""

INIT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
dmesg -n 1
for m in $MODULES; do
    insmod /lib/modules/oneimage/$m.ko >> /tmp/select.log 2>&1 || echo "insmod $m failed" >> /tmp/select.log
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
IGNKIT_SELECT_WAIT=3 sh @@SCRIPT@@ >> /tmp/select.log 2>&1
{
    echo
    echo "ONEIMAGE: begin"
    sed 's/^/ONEIMAGE: log /' /tmp/select.log
    echo "ONEIMAGE: nics $(cat /sys/class/net/*/address | tr '\\n' ' ')"
    echo "ONEIMAGE: hostname $(cat /etc/hostname 2>/dev/null || echo none)"
    for f in /etc/NetworkManager/system-connections/*; do
        [ -f "$f" ] && echo "ONEIMAGE: keyfile ${f##*/} $(base64 -w 0 "$f")"
    done
    for f in /etc/coreos/installer.d/*; do
        [ -f "$f" ] && echo "ONEIMAGE: installer ${f##*/} $(base64 -w 0 "$f")"
    done
    dmesg | grep -i -E "virtio|module|insmod" | tail -n 8 | sed 's/^/ONEIMAGE: dmesg /'
    echo "ONEIMAGE: end"
} > /dev/ttyS0 2>&1
sync
poweroff -f
""".replace("@@SCRIPT@@", SCRIPT_PATH)
#: virtio-net and what it needs, in load order (all modules in Debian's kernel)
MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "failover",
           "net_failover", "virtio_net"]
INIT = INIT.replace("$MODULES", " ".join(MODULES))


def newc(files: dict[str, tuple[int, bytes]]) -> bytes:
    """An uncompressed newc cpio of ``files`` (path -> (mode, data)) with their directories."""
    dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
    out = bytearray()

    def entry(ino: int, name: str, mode: int, data: bytes) -> None:
        raw = name.encode() + b"\0"
        head = "070701" + "".join(f"{v:08x}" for v in (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(raw), 0))
        out.extend(head.encode() + raw)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    ino = 1
    for d in dirs:
        entry(ino, d, 0o40755, b"")
        ino += 1
    for name, (mode, data) in sorted(files.items()):
        entry(ino, name, 0o100000 | mode, data)
        ino += 1
    entry(0, "TRAILER!!!", 0, b"")
    return bytes(out) + b"\0" * (-len(out) % 512)


def modules(work: Path) -> dict[str, tuple[int, bytes]]:
    debs = Path(__file__).resolve().parents[2] / "testdata/build/debs"
    deb = next(debs.glob("linux-image-*_amd64.deb"))
    out = work / "kmod"
    out.mkdir()
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True).stdout
    subprocess.run(["tar", "x", "-C", str(out), "--wildcards", *(f"*/{m}.ko" for m in MODULES)], input=tar,
                   check=True)
    return {f"lib/modules/oneimage/{p.name}": (0o644, p.read_bytes()) for p in out.rglob("*.ko")}


def boot(kernel: Path, initrd: Path, mac: str, work: Path) -> dict[str, list[str]]:
    log = work / f"serial-{mac.replace(':', '')}.log"
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-M", "pc", "-m", "512", "-display", "none", "-monitor", "none",
           "-no-reboot", "-serial", f"file:{log}", "-nic", f"user,model=virtio-net-pci,mac={mac},restrict=on",
           "-kernel", str(kernel), "-initrd", str(initrd), "-append", "console=ttyS0 panic=-1 quiet"]
    start = time.monotonic()
    subprocess.run(cmd, check=True, timeout=240, stdin=subprocess.DEVNULL, capture_output=True)
    text = log.read_bytes().decode("utf-8", "replace")
    lines = [ln.strip().split("ONEIMAGE: ", 1)[1] for ln in text.splitlines() if "ONEIMAGE: " in ln]
    assert "begin" in lines and "end" in lines, text[-3000:]
    report: dict[str, list[str]] = {}
    for ln in lines:
        key, _, rest = ln.partition(" ")
        report.setdefault(key, []).append(rest)
    report["seconds"] = [f"{time.monotonic() - start:.1f}"]
    return report


def test_one_image_selects_by_mac_in_qemu(lab, tmp_path):
    m = lab.build("x86_64")
    kernel, live_initrd = m["path"].parent / "vmlinuz", m["path"].parent / "initrd.img"
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(HOSTS)
    rack = tmp_path / "rack.iso"
    ignkit("embed", str(m["path"]), "--hosts", str(hosts), "--one-image", "-o", str(rack),
           "--dest-karg-append", "quiet")
    # Ignition's part: the live config's files as they would be on the live root.
    parts = read_customization(open_iso(rack).members())
    files = {path.lstrip("/"): v for path, v in parts.files.items()}
    files.update(modules(tmp_path))
    files["init"] = (0o755, INIT.encode())
    initrd = tmp_path / "initrd.img"
    initrd.write_bytes(live_initrd.read_bytes() + newc(files))

    a = boot(kernel, initrd, "52:54:00:0a:00:01", tmp_path)
    assert a["hostname"] == ["rack-a"], a
    (name, b64), = [k.split(" ") for k in a["keyfile"]]
    kf = parse_keyfile(base64.b64decode(b64))
    assert name == "eno1.nmconnection" and kf["connection"]["interface-name"] == "eth0"   # eno1 is eth0 here
    assert kf["ipv4"]["address1"] == "192.0.2.11/24,192.0.2.1"
    (inst,) = a["installer"]
    text = base64.b64decode(inst.split(" ")[1]).decode()
    assert inst.startswith("0000-customize.yaml ") and "dest-device: /dev/sda" in text and "quiet" in text

    b = boot(kernel, initrd, "52:54:00:0b:00:02", tmp_path)
    assert b["hostname"] == ["rack-b"], b
    assert [k.split(" ")[0] for k in b["keyfile"]] == ["ethernet-5254000b0002.nmconnection"]
    text = base64.b64decode(b["installer"][0].split(" ")[1]).decode()
    assert "dest-device: /dev/vdb" in text and "nosmt" in text and "ttyS0,115200n8" in text

    c = boot(kernel, initrd, "52:54:00:0c:00:03", tmp_path)
    assert c["hostname"] == ["none"] and "keyfile" not in c and "installer" not in c, c
    assert any("no inventory host has a MAC address of this machine (52:54:00:0c:00:03" in ln
               for ln in c["log"]), c
