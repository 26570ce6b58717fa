"""Every URL form a user can give to `pxe config`, rendered for each loader in the syntax that loader reads.

GRUB 2.06+ names an HTTP file ``(http,SERVER)/path`` with SERVER ``host``, ``host:port``, ``[v6]`` or
``[v6]:port``; ``(http,host,port)`` is read as a host name (no DNS record). iPXE and PXELINUX (lpxelinux.0)
take URLs as they are; PXELINUX has neither IPv6 nor TLS, GRUB no TLS. What no loader could use (an unclosed
``[``, a port outside 1..65535) is refused in every format, for every URL option, with one error line.
The booted proof of these forms is tests/boot/test_netboot.py.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ignkit import pxeconfig as pc
from ignkit.cli import main
from ignkit.errors import UsageError

R = "http://10.0.0.1/rootfs.img"
IGN = "http://10.0.0.1/worker.ign"


def params(**kw: object) -> pc.BootParams:
    p = pc.BootParams(kernel_url="http://10.0.0.1/k", initramfs_url="http://10.0.0.1/i", rootfs_url=R,
                      ignition_url=IGN, install_dev="/dev/sda")
    return replace(p, **kw)  # type: ignore[arg-type]


REFUSED = None
# form: (URL, pxelinux KERNEL, ipxe kernel, grub linux); REFUSED = a UsageError naming the reason.
FORMS = {
    "host": ("http://boot.example.com/k", "http://boot.example.com/k", "http://boot.example.com/k",
             "(http,boot.example.com)/k"),
    "ipv4": ("http://10.0.2.2/k", "http://10.0.2.2/k", "http://10.0.2.2/k", "(http,10.0.2.2)/k"),
    "host:port": ("http://boot.example.com:8080/rhcos/k", "http://boot.example.com:8080/rhcos/k",
                  "http://boot.example.com:8080/rhcos/k", "(http,boot.example.com:8080)/rhcos/k"),
    "ipv4:port": ("http://10.0.2.2:8080/k", "http://10.0.2.2:8080/k", "http://10.0.2.2:8080/k",
                  "(http,10.0.2.2:8080)/k"),
    "ipv6": ("http://[2001:db8::1]/k", REFUSED, "http://[2001:db8::1]/k", "(http,[2001:db8::1])/k"),
    "ipv6:port": ("http://[fd00::2]:8080/k", REFUSED, "http://[fd00::2]:8080/k", "(http,[fd00::2]:8080)/k"),
    "https": ("https://boot.example.com/k", REFUSED, "https://boot.example.com/k", REFUSED),
    "https:port": ("https://10.0.0.1:8443/k", REFUSED, "https://10.0.0.1:8443/k", REFUSED),
    "query": ("http://10.0.2.2:8080/k?mac=52-54-00-00-00-01&arch=x86_64",
              "http://10.0.2.2:8080/k?mac=52-54-00-00-00-01&arch=x86_64",
              "http://10.0.2.2:8080/k?mac=52-54-00-00-00-01&arch=x86_64",
              "'(http,10.0.2.2:8080)/k?mac=52-54-00-00-00-01&arch=x86_64'"),
    "query-no-amp": ("http://10.0.2.2/k?v=1", "http://10.0.2.2/k?v=1", "http://10.0.2.2/k?v=1",
                     "(http,10.0.2.2)/k?v=1"),
    "no-path": ("http://10.0.2.2:81", "http://10.0.2.2:81", "http://10.0.2.2:81", "(http,10.0.2.2:81)/"),
    "tftp": ("tftp://10.0.2.2/k", "tftp://10.0.2.2/k", "tftp://10.0.2.2/k", "(tftp,10.0.2.2)/k"),
    "tftp-path": ("rhcos/k", "rhcos/k", "rhcos/k", "rhcos/k"),
    "host-case": ("HTTP://Boot.Example.com/k", "HTTP://Boot.Example.com/k", "HTTP://Boot.Example.com/k",
                  "(http,boot.example.com)/k"),
}


def kernel_line(fmt: str, text: str) -> str:
    prefix = {"pxelinux": "    KERNEL ", "ipxe": "kernel ", "grub": "    linux "}[fmt]
    [line] = [ln for ln in text.splitlines() if ln.startswith(prefix)]
    return line[len(prefix):].split(" ")[0]


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("fmt", pc.FORMATS)
def test_loader_url_forms(fmt: str, form: str) -> None:
    url = FORMS[form][0]
    want = FORMS[form][1 + pc.FORMATS.index(fmt)]
    for field in ("kernel_url", "initramfs_url"):
        p = params(**{field: url})
        if want is REFUSED:
            with pytest.raises(UsageError, match="https|IPv6|IPv4 only"):
                pc.render(fmt, p)
            continue
        text, _ = pc.render(fmt, p)
        if field == "kernel_url":
            assert kernel_line(fmt, text) == want
        elif fmt == "grub":
            assert f"    initrd {want}\n" in text
        elif fmt == "ipxe":
            assert f"initrd --name main {want}\n" in text
        else:
            assert f" initrd={want} " in text


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("fmt", pc.FORMATS)
def test_kernel_argument_url_forms(fmt: str, form: str) -> None:
    """coreos.live.rootfs_url / coreos.inst.ignition_url are fetched by the live system, not the loader: any
    http(s) form goes on the command line unchanged (GRUB: one single-quoted word when it holds '&')."""
    url = FORMS[form][0]
    if not url.lower().startswith("http"):
        with pytest.raises(UsageError, match="must be an http:// or https:// URL"):
            pc.render(fmt, params(ignition_url=url))
        return
    text, _ = pc.render(fmt, params(ignition_url=url, rootfs_url=url))
    for arg in (f"coreos.live.rootfs_url={url}", f"coreos.inst.ignition_url={url}"):
        word = f"'{arg}'" if fmt == "grub" and "&" in url else arg
        assert f" {word}" in text, text


def test_grub_quotes_only_words_it_would_interpret() -> None:
    text, _ = pc.render("grub", params(kargs=["a=$x", "b=1;2", "c=<d>", "e={f}", "g=h|i", "plain=1"]))
    [linux] = [ln for ln in text.splitlines() if ln.startswith("    linux ")]
    assert linux.endswith(" 'a=$x' 'b=1;2' 'c=<d>' 'e={f}' 'g=h|i' plain=1")


def test_ipxe_script_configures_the_network_only_when_needed() -> None:
    text, _ = pc.render("ipxe", params())
    assert text.splitlines()[:2] == ["#!ipxe", "isset ${ip} || dhcp"]
    assert pc.IPXE_CHAIN.splitlines()[:2] == ["#!ipxe", "isset ${ip} || dhcp"]


def test_ipxe_https_warns_about_the_build() -> None:
    _, warnings = pc.render("ipxe", params(kernel_url="https://10.0.0.1/k"))
    assert any("DOWNLOAD_PROTO_HTTPS" in w for w in warnings)
    _, warnings = pc.render("ipxe", params(ignition_url="https://10.0.0.1/w.ign"))
    assert warnings == []


def test_pxelinux_says_lpxelinux_is_needed_for_http() -> None:
    text, _ = pc.render("pxelinux", params())
    assert text.startswith("# http:// kernel/initramfs URLs need lpxelinux.0")
    text, _ = pc.render("pxelinux", params(kernel_url="rhcos/k", initramfs_url="tftp://10.0.0.1/i"))
    assert "lpxelinux" not in text and text.startswith("DEFAULT coreos\n")
    text, _ = pc.render("pxelinux", params(kernel_url="rhcos/k"))
    assert "lpxelinux.0" in text


def test_help_names_lpxelinux(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pxe", "config", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "lpxelinux.0" in out and "dhcp" in out


BAD_URLS = [
    ("http://[::1/k", "not a valid URL"),
    ("http://[::1]x/k", "unexpected"),
    ("http://[zz::1]/k", "not an IPv6 address"),
    ("http://[10.0.0.1]/k", "not an IPv6 address"),
    ("http://::1/k", "must be in brackets"),
    ("http://h]/k", "brackets"),
    ("http://h:99999/k", "port '99999'"),
    ("http://h:abc/k", "port 'abc'"),
    ("http://h:0/k", "port '0'"),
    ("http://h:-1/k", "port '-1'"),
    ("http://h:８０/k", "port"),
    ("http:///k", "has no host"),
    ("http://:8080/k", "has no host"),
]
FIELDS = {"kernel_url": "--kernel-url", "initramfs_url": "--initramfs-url", "rootfs_url": "--rootfs-url",
          "ignition_url": "--ignition-url"}


@pytest.mark.parametrize("bad,msg", BAD_URLS, ids=[b for b, _ in BAD_URLS])
@pytest.mark.parametrize("fmt", pc.FORMATS)
def test_invalid_urls_refused_in_every_format(fmt: str, bad: str, msg: str) -> None:
    for field in FIELDS:
        with pytest.raises(UsageError, match=msg.replace("[", r"\[")):
            pc.render(fmt, params(**{field: bad}))


@pytest.mark.parametrize("fmt", pc.FORMATS)
def test_invalid_urls_cli_one_error_line(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    good = {"--kernel-url": "http://10.0.0.1/k", "--initramfs-url": "http://10.0.0.1/i", "--rootfs-url": R,
            "--ignition-url": IGN}
    for bad in ("http://[::1/k", "http://h:99999/k", "http://h:abc/r"):
        for opt in FIELDS.values():
            args = dict(good, **{opt: bad})
            argv = ["pxe", "config", "-F", fmt, "--install-dev", "/dev/sda"]
            for k, v in args.items():
                argv += [k, v]
            assert main(argv) == 2
            cap = capsys.readouterr()
            assert cap.out == ""
            lines = cap.err.splitlines()
            assert len(lines) == 1 and lines[0].startswith("ignkit: error: "), cap.err
            assert "Traceback" not in cap.err


def test_placeholder_urls_are_checked_per_host() -> None:
    from ignkit.inventory import Host, Interface

    hosts = [Host(hostname="w0", interfaces=[Interface("eno1", "52:54:00:00:00:01")])]
    files, _ = pc.render_hosts("grub", params(kernel_url="http://[fd00::1]:8080/{short_name}/k"), hosts)
    assert "    linux (http,[fd00::1]:8080)/w0/k " in files["grub.cfg-01-52-54-00-00-00-01"]
    with pytest.raises(UsageError, match="host w0: .*port"):
        pc.render_hosts("ipxe", params(ignition_url="http://h:{short_name}/x"), hosts)


def test_grub_gets_an_ipv6_address_before_an_ipv6_fetch() -> None:
    text, _ = pc.render("grub", params(kernel_url="http://[fd00::2]:8080/k"))
    lines = text.splitlines()
    assert lines[3] == "    net_ipv6_autoconf"
    assert lines[4].startswith("    linux (http,[fd00::2]:8080)/k coreos.live.rootfs_url=")
    text, _ = pc.render("grub", params(ignition_url="http://[fd00::2]:8080/w.ign"))
    assert "net_ipv6_autoconf" not in text  # the live system fetches that one, not GRUB
