"""``ignkit embed`` / ``ignkit pxe customize``: compose what goes into a live image for one host.

The options and their meaning are those of ``coreos-installer iso customize`` (spec section 6), with
three differences:

* several ``--dest-ignition`` (or ``--live-ignition``) configs are merged *statically* with Ignition's
  merge and validated, instead of being nested as ``data:`` URLs for a runtime merge;
* the destination config may come from a URL (``--dest-ignition-url`` with ``--dest-ignition-hash``),
  written to the installer config as ``ignition-url`` / ``ignition-hash``;
* a short network form (``--hostname``, ``--ip``, ``--gateway``, ``--dns``, ``--interface``/``--mac``)
  that generates the NetworkManager keyfile (see :mod:`ignkit.netconf`) and sets the host name of the
  live and the installed system.

:func:`compose` is pure: options and the image's feature flags in, a :class:`Customization` out (the
members of the initrd to embed, the live kargs edit, the messages to print). :func:`customize_iso`
and :func:`customize_pxe` apply it to a live ISO / PXE initramfs; :func:`read_customization` reads
an embedded initrd back into its parts.

Many hosts (``--hosts``): see :mod:`ignkit.live.hosts`, which composes each host's image with this
module and writes the set all or nothing.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Optional, Union

from ..errors import IgnkitError, ImageError, InputError, InvalidConfig, UsageError
from ..ignition import build
from .features import OsFeatures
from .initramfs import CONFIG_MEMBER, NETWORK_DIR
from .installer import InstallConfig
from .kinds import ImageKind
from .options import CustomizeOptions, PathLike, check_options, flag, flags_of, short_network_keyfiles

if TYPE_CHECKING:
    from .image import LiveIso
    from .initramfs import LiveInitramfs

INSTALLER_DIR = "/etc/coreos/installer.d"
DEST_IGN_PATH = "/etc/coreos/dest.ign"
PXE_KARGS = "ignition.firstboot ignition.platform.id=metal"
DOCS_URL = "https://coreos.github.io/coreos-installer/customizing-install/"



# ---------------------------------------------------------------------------------------------------
# Options and result


@dataclass
class Customization:
    """What :func:`compose` decided for one image."""

    members: dict[str, bytes] = field(default_factory=dict)      # the initrd: config.ign, keyfiles
    live_config: Optional[dict[str, Any]] = None
    dest_config: Optional[dict[str, Any]] = None
    installer_config: Optional[InstallConfig] = None             # the generated NNNN-customize.yaml
    installer_files: dict[str, bytes] = field(default_factory=dict)  # installer.d name -> bytes
    keyfiles: dict[str, bytes] = field(default_factory=dict)    # name -> keyfile
    live_kargs_append: list[str] = field(default_factory=list)
    live_kargs_delete: list[str] = field(default_factory=list)
    live_kargs_replace: list[str] = field(default_factory=list)
    installs: bool = False
    messages: list[str] = field(default_factory=list)           # notes for stderr
    warnings: list[str] = field(default_factory=list)

    @property
    def has_live_kargs(self) -> bool:
        return bool(self.live_kargs_append or self.live_kargs_delete or self.live_kargs_replace)


# ---------------------------------------------------------------------------------------------------
# Helpers


def parse_console(spec: str) -> str:
    """Normalize a ``--dest-console`` spec: ``ttyS0`` → ``ttyS0,9600n8`` (see :mod:`ignkit.live.console`)."""
    from .console import normalize_console

    return normalize_console(spec, flag("dest_console"))


def _require(features: OsFeatures, name: str, option: str, what: str) -> None:
    if not features.enabled(name):
        raise ImageError(
            f"{option}: This OS image does not support customizing {what}. "
            f"(its coreos/features.json does not enable {name!r}; use a newer image)"
        )


def _read(path: PathLike, option: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise InputError(f"{option} {os.fspath(path)}: {e.strerror or e}") from None


def _versions_merge(configs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Statically merge configs (first = parent) after translating all to the newest spec among them."""
    from ..ignition.merge import merge
    from ..ignition.translate import newest, translate

    target = newest([c["ignition"]["version"] for c in configs])
    translated = [translate(c, target) for c in configs]
    if len(translated) == 1:
        return translated[0]
    return merge(translated[0], *translated[1:])


def load_user_config(data: bytes, what: str) -> dict[str, Any]:
    """Parse a user config (``--dest-ignition``, ``--live-ignition``) and check its spec version."""
    from ..ignition.translate import spec_index

    cfg = build.parse(data, what=what)
    ign = cfg.get("ignition")
    version = ign.get("version") if isinstance(ign, dict) else None
    try:
        spec_index(version)
    except InputError as e:
        raise InputError(f"parsing Ignition config {what}: {e}") from None
    return cfg


def _user_configs(paths: Sequence[PathLike], option: str, validate: bool) -> list[dict[str, Any]]:
    """Read, parse and (with ``validate``) validate the configs given to ``option``, in order."""
    from ..configinput import as_ignition

    configs = []
    for p in paths:
        # a Butane file is translated first; its local references stay inside its own directory
        data = as_ignition(_read(p, option), f"{option} {os.fspath(p)}", os.path.dirname(os.path.abspath(p)))
        configs.append(load_user_config(data, os.fspath(p)))
        if validate:
            check_config(data, os.fspath(p))
    return configs


def check_config(config: Union[dict[str, Any], bytes], what: str) -> None:
    """Validate a config (dict, or the raw bytes of a file for line/column positions).

    Raises InvalidConfig carrying the validator's messages (and report) when it has errors.
    """
    from ..ignition.validate import validate

    report: Any = validate(config if isinstance(config, bytes) else build.serialize(config))
    if report.ok:
        return
    errors = [str(e) for e in report.errors] or [str(report)]
    raise InvalidConfig(f"{what} does not validate: " + "; ".join(errors) + " (use --no-validate to skip)",
                        report)


def _drop_overridden(parent: Mapping[str, Any], children: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``parent`` without the files, directories, links and units that one of ``children`` specifies.

    Where ignkit's generated entries and a user config name the same path or unit, the later one in
    merge order replaces the earlier one whole: Ignition's field-wise merge would pair, say, the
    generated file's gzip ``compression`` with the user's plain ``source``, or a user's
    ``verification.hash`` with ignkit's contents, and the file could not be written at boot.
    """
    paths = set().union(*(build.paths_of(c) for c in children))
    units = set().union(*(build.units_of(c) for c in children))
    out = copy.deepcopy(dict(parent))
    storage = out.get("storage") or {}
    for kind in ("files", "directories", "links"):
        if storage.get(kind):
            storage[kind] = [e for e in storage[kind] if e.get("path") not in paths]
    systemd = out.get("systemd") or {}
    if systemd.get("units"):
        systemd["units"] = [u for u in systemd["units"] if u.get("name") not in units]
    return out


def _hook_unit(typ: str, name: str, tool: str) -> str:
    title = "Pre-Install" if typ == "pre" else "Post-Install"
    if typ == "pre":
        order = "After=coreos-installer-pre.target\nBefore=coreos-installer.service"
        wanted = "RequiredBy=coreos-installer.service"
    else:
        order = "After=coreos-installer.service\nBefore=coreos-installer.target"
        wanted = "RequiredBy=coreos-installer.target"
    return (
        f"# Generated by {tool}\n\n"
        "[Unit]\n"
        f"Description={title} Script ({name})\n"
        f"Documentation={DOCS_URL}\n"
        f"{order}\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart=/usr/local/bin/{typ}-install-{name}\n"
        "RemainAfterExit=true\n"
        "StandardOutput=kmsg+console\n"
        "StandardError=kmsg+console\n\n"
        "[Install]\n"
        f"{wanted}"
    )


def _console_note(kargs: Sequence[str]) -> Optional[str]:
    consoles = [k[len("console="):] for k in kargs if k.startswith("console=")]
    if not consoles:
        return None
    try:
        specs = [parse_console(c) for c in consoles]
    except UsageError:
        return None
    flags = " ".join(f"{flag('dest_console')} {s}" for s in specs)
    return (f"Note: console= arguments in --dest-karg-append configure the kernel only; {flags} "
            "configures the bootloader too (GRUB serial console).")


# ---------------------------------------------------------------------------------------------------
# Composition


def compose(options: CustomizeOptions, features: Union[OsFeatures, Mapping[str, Any]], *,
            target: Union[ImageKind, str] = ImageKind.ISO,
            has_karg_areas: bool = True) -> Customization:
    """Compose the initrd members, the live config, the installer config and the kargs edit.

    ``features`` is the image's :class:`~ignkit.live.features.OsFeatures` (or its parsed features.json);
    ``target`` is an :class:`~ignkit.live.kinds.ImageKind` (or its word, ``"iso"`` / ``"pxe"``; PXE
    takes no live kargs). Raises ImageError naming the option when the image cannot
    honour it, UsageError/InputError for bad options or inputs, InvalidConfig when a composed config
    does not validate (unless ``options.validate`` is false).
    """
    check_options(options)
    features = OsFeatures.coerce(features)
    target = ImageKind(target)
    draft = _Draft()
    result = draft.result
    _live_kargs(options, result, target=target, has_karg_areas=has_karg_areas)

    # What the installer is told, and what the live config carries for it, in the order it is written.
    dest_user = _dest_sources(options)
    _dest_directives(options, features, draft)
    copy_network = _network(options, features, result)
    cas = _ignition_cas(options, draft)
    _install_hooks(options, draft, "ignkit embed" if target is ImageKind.ISO else "ignkit pxe customize")
    serial, user_dest_source = _user_installer_configs(options, features, draft)
    installs = (serial > 0 or draft.installer is not None or bool(dest_user)
                or options.dest_ignition_url is not None)
    dest = _dest_config(options, dest_user, cas, installs=installs, user_dest_source=user_dest_source,
                        result=result)
    _point_installer_at_dest(options, dest, draft)
    if installs:
        _announce_install(options, result)
        if copy_network:
            draft.inst().copy_network = True
    _generated_installer_config(options, features, draft, serial)

    # The live config and the initrd members.
    _live_config(options, draft)
    for name, data in result.keyfiles.items():
        result.members[NETWORK_DIR + name] = data
    if target is ImageKind.PXE and CONFIG_MEMBER in result.members:
        result.messages.append(f"PXE configuration must include kernel arguments:\n\t{PXE_KARGS}")
    return result


@dataclass
class _Draft:
    """The configs being composed; each is created on first use, so an image without options gets none."""

    result: Customization = field(default_factory=Customization)
    live: Optional[dict[str, Any]] = None
    installer: Optional[InstallConfig] = None

    def live_cfg(self) -> dict[str, Any]:
        if self.live is None:
            self.live = build.new_config()
        return self.live

    def inst(self) -> InstallConfig:
        if self.installer is None:
            self.installer = InstallConfig()
        return self.installer


def _live_kargs(options: CustomizeOptions, result: Customization, *, target: ImageKind, has_karg_areas: bool) -> None:
    """Check and record the ``--live-karg-*`` edit (ISO images with kernel-argument areas only)."""
    if not options.has_live_kargs:
        return
    if target is not ImageKind.ISO:
        raise UsageError("--live-karg-* apply to ISO images only: give PXE kernel arguments in the boot config")
    if not has_karg_areas:
        raise ImageError("--live-karg-*: This OS image does not support customizing live kernel arguments. "
                         "(the ISO has no kernel-argument areas)")
    result.live_kargs_append = list(options.live_karg_append)
    result.live_kargs_delete = list(options.live_karg_delete)
    result.live_kargs_replace = list(options.live_karg_replace)


def _dest_sources(options: CustomizeOptions) -> list[dict[str, Any]]:
    """Read the ``--dest-ignition`` configs (merged later) and check the ``--dest-ignition-url`` options."""
    dest_user = _user_configs(options.dest_ignition, flag("dest_ignition"), options.validate)
    url, digest = flag("dest_ignition_url"), flag("dest_ignition_hash")
    if options.dest_ignition_url is not None:
        # The URL and the digest themselves were checked with the other values (check_options).
        if dest_user:
            raise UsageError(f"give {flag('dest_ignition')} or {url}, not both")
        if not options.dest_ignition_hash and not options.insecure_ignition:
            raise UsageError(f"{url} needs {digest} (or {flag('insecure_ignition')})")
    elif options.dest_ignition_hash:
        raise UsageError(f"{digest} needs {url}")
    return dest_user


def _dest_directives(options: CustomizeOptions, features: OsFeatures, draft: _Draft) -> None:
    """Installer directives for the destination: device, console, kernel arguments."""
    if options.dest_device:
        draft.inst().dest_device = options.dest_device
    if options.dest_console:
        _require(features, "installer-config-directives.console", flag("dest_console"), "the destination console")
        draft.inst().console = [parse_console(c) for c in options.dest_console]
    if options.dest_karg_append:
        draft.inst().append_karg = list(options.dest_karg_append)
        note = _console_note(options.dest_karg_append)
        if note:
            draft.result.messages.append(note)
    if options.dest_karg_delete:
        draft.inst().delete_karg = list(options.dest_karg_delete)


def _network(options: CustomizeOptions, features: OsFeatures, result: Customization) -> bool:
    """Collect the NetworkManager keyfiles into ``result.keyfiles``; True when there are network settings."""
    if not options.has_network:
        return False
    named = [o for o in options.given() if o.field in ("network_keyfile", "network_nmstate")]
    option = named[0].flag if named else flags_of([o for o in options.given(per_host=True) if o.field != "hostname"]
                                                  ) or "--ip/--mac/--interface"
    _require(features, "live-initrd-network", option, "network settings")

    def add_kf(name: str, data: bytes) -> None:
        if not name or "/" in name or name in (".", ".."):
            raise UsageError(f"bad keyfile name {name!r}")
        if name in result.keyfiles:
            raise UsageError(f"config already specifies keyfile {name}")
        result.keyfiles[name] = data

    for p in options.network_keyfile:
        add_kf(Path(p).name, _read(p, flag("network_keyfile")))
    if options.network_nmstate:
        from ..netconf import load_nmstate, nmstate_to_keyfiles

        for p in options.network_nmstate:
            try:
                state = load_nmstate(p)
            except IgnkitError as e:
                raise InputError(f"{flag('network_nmstate')}: {e.message}") from None
            for name, text in nmstate_to_keyfiles(state, where=os.fspath(p)).items():
                if name in result.keyfiles:
                    raise UsageError(f"config already specifies keyfile {NETWORK_DIR}{name}")
                result.keyfiles[name] = text.encode()
    for name, text in short_network_keyfiles(options).items():
        add_kf(name, text.encode())
    for name, kf in options.keyfiles.items():
        add_kf(name, kf.encode() if isinstance(kf, str) else bytes(kf))
    return True


def _ignition_cas(options: CustomizeOptions, draft: _Draft) -> list[bytes]:
    """Read the ``--ignition-ca`` certificates and add them to the live config; returns them (PEM)."""
    cas = [_read(p, flag("ignition_ca")) for p in options.ignition_ca]
    for pem in cas:
        if b"-----BEGIN CERTIFICATE-----" not in pem:
            raise InputError(f"{flag('ignition_ca')}: not a PEM certificate (no BEGIN CERTIFICATE line)")
        build.add_ca(draft.live_cfg(), pem)
    return cas


def _install_hooks(options: CustomizeOptions, draft: _Draft, tool: str) -> None:
    """Add the ``--pre-install`` / ``--post-install`` scripts and their units to the live config."""
    for typ, paths in (("pre", options.pre_install), ("post", options.post_install)):
        for p in paths:
            name = Path(p).name
            script = _read(p, flag(f"{typ}_install"))
            build.add_file(draft.live_cfg(), f"/usr/local/bin/{typ}-install-{name}", script, mode=0o700)
            build.add_unit(draft.live_cfg(), f"{typ}-install-{name}.service", _hook_unit(typ, name, tool))


def _user_installer_configs(options: CustomizeOptions, features: OsFeatures,
                            draft: _Draft) -> tuple[int, Optional[str]]:
    """Add the ``--installer-config`` files to installer.d in order.

    Returns how many were added and the last one that names the destination config itself
    (``ignition-file`` / ``ignition-url``), if any.
    """
    serial = 0
    user_dest_source: Optional[str] = None
    for p in options.installer_config:
        _require(features, "installer-config", flag("installer_config"), "installer configuration")
        data = _read(p, flag("installer_config"))
        config = InstallConfig.from_yaml(data, os.fspath(p))
        if config.ignition_file is not None or config.ignition_url is not None:
            user_dest_source = os.fspath(p)
        fname = f"{serial:04d}-{Path(p).name}"
        build.add_file(draft.live_cfg(), f"{INSTALLER_DIR}/{fname}", data, mode=0o600)
        draft.result.installer_files[fname] = data
        serial += 1
    return serial, user_dest_source


def _dest_config(options: CustomizeOptions, dest_user: Sequence[dict[str, Any]], cas: Sequence[bytes], *,
                 installs: bool, user_dest_source: Optional[str],
                 result: Customization) -> Optional[dict[str, Any]]:
    """The destination config: static merge of the user configs plus host name, SSH keys and CAs.

    None when there is nothing to embed (no user config, or nothing to add to a URL's config).
    """
    dest: Optional[dict[str, Any]] = None
    extras_for_dest = bool(cas) or bool(options.hostname) or bool(options.ssh_authorized_keys)
    if extras_for_dest and user_dest_source and not dest_user and options.dest_ignition_url is None:
        # The user's installer config names the destination config; leave it alone.
        result.warnings.append(f"--hostname/--ignition-ca apply to the live system only: {user_dest_source} "
                               "supplies the destination config")
        extras_for_dest = False
    if dest_user:
        dest = _versions_merge(dest_user)
    if installs and extras_for_dest:
        if dest is None:
            dest = build.new_config()
            if options.dest_ignition_url is not None:
                build.add_merge_url(dest, options.dest_ignition_url, options.dest_ignition_hash)
        if dest_user:
            from ..ignition.translate import spec_index, translate

            # Inline gzip resources (CAs) need a spec that knows them: lift old configs to ours.
            if spec_index(dest["ignition"]["version"]) < spec_index(build.GENERATED_VERSION):
                dest = translate(dest, build.GENERATED_VERSION)
        extra = build.new_config(dest["ignition"]["version"]) if dest_user else dest
        for pem in cas:
            build.add_ca(extra, pem)
        if options.hostname:
            build.add_hostname(extra, options.hostname)
        if options.ssh_authorized_keys:
            build.add_ssh_keys(extra, "core", options.ssh_authorized_keys)
        if extra is not dest:
            from ..ignition.merge import merge

            dest = merge(_drop_overridden(dest, [extra]), extra)
    return dest


def _point_installer_at_dest(options: CustomizeOptions, dest: Optional[dict[str, Any]], draft: _Draft) -> None:
    """Embed ``dest`` (validated) as /etc/coreos/dest.ign, or hand the installer ``--dest-ignition-url``."""
    if dest is not None:
        if options.validate:
            check_config(dest, "the destination config")
        build.add_file(draft.live_cfg(), DEST_IGN_PATH, build.serialize(dest), mode=0o600)
        draft.inst().ignition_file = DEST_IGN_PATH
        draft.result.dest_config = dest
    elif options.dest_ignition_url is not None:
        draft.inst().ignition_url = options.dest_ignition_url
        if options.dest_ignition_hash:
            draft.inst().ignition_hash = options.dest_ignition_hash
        if options.insecure_ignition:
            draft.inst().insecure_ignition = True


def _announce_install(options: CustomizeOptions, result: Customization) -> None:
    """Mark the image as installing and say so (the installer runs unattended at boot)."""
    result.installs = True
    if options.dest_device:
        result.messages.append(f"Boot media will automatically install to {options.dest_device} "
                               "without confirmation.")
    else:
        result.messages.append("Boot media will automatically run installer.")


def _generated_installer_config(options: CustomizeOptions, features: OsFeatures, draft: _Draft,
                                serial: int) -> None:
    """Write the collected directives as installer.d's last file, ``NNNN-customize.yaml`` (if any)."""
    if draft.installer is None:
        return
    _require(features, "installer-config", _installer_option(options), "installer configuration")
    fname = f"{serial:04d}-customize.yaml"
    data = draft.installer.to_yaml()
    build.add_file(draft.live_cfg(), f"{INSTALLER_DIR}/{fname}", data, mode=0o600)
    draft.result.installer_files[fname] = data
    draft.result.installer_config = copy.deepcopy(draft.installer)


def _live_config(options: CustomizeOptions, draft: _Draft) -> None:
    """Finish the live config (host name, ``--live-ignition`` merged over it), validate it, make it a member."""
    if options.hostname:
        build.add_hostname(draft.live_cfg(), options.hostname)
    # Live configs given by the user: merged statically over the generated one.
    live_user = _user_configs(options.live_ignition, flag("live_ignition"), options.validate)
    if live_user:
        draft.live = _versions_merge([_drop_overridden(draft.live_cfg(), live_user), *live_user])
    if draft.live is not None:
        if options.validate:
            check_config(draft.live, "the live config")
        draft.result.members[CONFIG_MEMBER] = build.serialize(draft.live)
        draft.result.live_config = draft.live


def _installer_option(options: CustomizeOptions) -> str:
    """The option to name when the image cannot take the generated installer config."""
    given = options.given(group="dest")
    return given[0].flag if given else "--dest-* options"


# ---------------------------------------------------------------------------------------------------
# Applying to images


def customize_iso(iso: LiveIso, options: CustomizeOptions, *, force: bool = False) -> Customization:
    """Compose for ``iso`` and stage the edits on it (write with :func:`ignkit.live.image.write_iso`).

    The Ignition area's previous content is replaced; live kargs, when given, are applied to the
    image's *default* kargs. Raises ImageError when the result does not fit the area.
    """
    from .kargs import modify_kargs

    if not force and not iso.is_pristine():
        raise ImageError("This ISO image is already customized; use -f to force.")
    result = compose(options, iso.features, target=ImageKind.ISO, has_karg_areas=iso.kargs is not None)
    iso.set_members(result.members)
    if result.has_live_kargs:
        assert iso.default_kargs is not None
        iso.set_kargs(modify_kargs(iso.default_kargs, append=result.live_kargs_append,
                                   delete=result.live_kargs_delete, replace=result.live_kargs_replace))
    return result


def scan_pxe_initramfs(initramfs: PathLike) -> LiveInitramfs:
    """Scan a PXE live initramfs and apply ``pxe customize``'s refusals; errors name the file."""
    from .initramfs import check_live_initramfs, scan_live_initramfs

    where = os.fspath(initramfs)
    if not os.path.isfile(where):
        raise InputError(f"{where}: no such file")
    try:
        info = scan_live_initramfs(where)
        check_live_initramfs(info)
    except ImageError as e:
        raise ImageError(f"{where}: {e.message}") from None
    info.size = os.path.getsize(where)
    return info


def compose_pxe(initramfs: PathLike, options: CustomizeOptions) -> Customization:
    """Check a PXE live initramfs and compose its layer for ``options`` without writing (``--dry-run``)."""
    return compose(options, scan_pxe_initramfs(initramfs).features, target=ImageKind.PXE, has_karg_areas=False)


def check_initramfs_input(initramfs: PathLike) -> None:
    """InputError unless ``initramfs`` is a regular file (a FIFO or device cannot be read twice)."""
    import stat

    p = os.fspath(initramfs)
    try:
        mode = os.stat(p).st_mode
    except OSError as e:
        raise InputError(f"{p}: {e.strerror or e}") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{p}: is a directory")
    if not stat.S_ISREG(mode):
        raise InputError(f"{p}: not a regular file (save the initramfs to a file first)")


def customize_pxe(initramfs: PathLike, options: CustomizeOptions, output: Union[PathLike, BinaryIO], *,
                  overwrite: bool = False) -> Customization:
    """Copy a CoreOS live initramfs to ``output`` with one appended xz cpio layer for ``options``.

    Refuses an initramfs that is not a CoreOS live initramfs or is already customized. ``output`` is
    a path (atomic; an existing file refused unless ``overwrite``), ``"-"`` (standard output, not a
    terminal) or a binary stream.
    """
    from ..outfile import binary_stdout, refuse_input_as_output
    from .initramfs import append_layer

    if options.has_live_kargs:
        raise UsageError("--live-karg-* apply to ISO images only: give PXE kernel arguments in the boot config")
    # A path is checked (directory, existing file) by append_layer's atomic_output before any work.
    if isinstance(output, (str, os.PathLike)) and os.fspath(output) == "-":
        binary_stdout()  # refuses a terminal before any work
    check_initramfs_input(initramfs)
    if isinstance(output, (str, os.PathLike)):
        refuse_input_as_output(output, [initramfs], hint="write the customized initramfs to another file")
    holder: list[Customization] = []

    def files(info: LiveInitramfs) -> dict[str, bytes]:
        holder.append(compose(options, info.features, target=ImageKind.PXE, has_karg_areas=False))
        return holder[0].members

    # One pass: the input is copied while it is scanned; the checks and the composition run before
    # the layer is appended, and a failure leaves no output.
    try:
        append_layer(initramfs, files, output, check=True, overwrite=overwrite)
    except ImageError as e:
        if holder:
            raise
        raise ImageError(f"{os.fspath(initramfs)}: {e.message}") from None
    return holder[0]


# ---------------------------------------------------------------------------------------------------
# Reading back


@dataclass
class EmbeddedParts:
    """A customized initrd taken apart (see :func:`read_customization`)."""

    live_config: Optional[dict[str, Any]]
    files: dict[str, tuple[int, bytes]]            # live config inline files: path -> (mode, contents)
    units: dict[str, dict[str, Any]]               # live config units by name
    installer_files: dict[str, bytes]              # installer.d name -> contents
    installer_config: InstallConfig                # installer.d files merged the way the installer does
    dest_config: Optional[dict[str, Any]]
    keyfiles: dict[str, bytes]


def read_customization(members: Mapping[str, bytes]) -> EmbeddedParts:
    """Decode an embedded initrd's members: live config, its files and units, installer.d, keyfiles."""
    live = build.parse(members[CONFIG_MEMBER], what=CONFIG_MEMBER) if CONFIG_MEMBER in members else None
    files = build.files_of(live) if live else {}
    units = build.units_of(live) if live else {}
    inst_files = {p[len(INSTALLER_DIR) + 1:]: data for p, (_, data) in sorted(files.items())
                  if p.startswith(INSTALLER_DIR + "/")}
    merged = InstallConfig()
    for name, data in sorted(inst_files.items()):
        merged.update(InstallConfig.from_yaml(data, f"{INSTALLER_DIR}/{name}"))
    dest = build.parse(files[DEST_IGN_PATH][1], what=DEST_IGN_PATH) if DEST_IGN_PATH in files else None
    keyfiles = {k[len(NETWORK_DIR):]: v for k, v in members.items() if k.startswith(NETWORK_DIR)}
    return EmbeddedParts(live, files, units, inst_files, merged, dest, keyfiles)


def describe(result: Customization, *, area_size: Optional[int] = None, kargs: Optional[str] = None) -> str:
    """Human-readable summary for ``--dry-run``: members, files, units, installer config, kargs, size."""
    from .initramfs import build_initrd

    lines: list[str] = []
    parts = read_customization(result.members)
    payload = build_initrd(result.members) if result.members else b""
    lines.append("initrd members:" if result.members else "initrd members: (none)")
    for name, data in sorted(result.members.items()):
        lines.append(f"  {name} ({len(data)} bytes)")
    if parts.files:
        lines.append("live config files:")
        for path, (mode, data) in parts.files.items():
            lines.append(f"  {path} (mode {mode:04o}, {len(data)} bytes)")
    if parts.units:
        lines.append("live config units: " + ", ".join(parts.units))
    for name, data in parts.installer_files.items():
        lines.append(f"installer config {INSTALLER_DIR}/{name}:")
        lines.extend("  " + line for line in data.decode("utf-8", "replace").rstrip("\n").splitlines())
    if parts.dest_config is not None:
        lines.append(f"destination config: {len(build.serialize(parts.dest_config))} bytes, spec "
                     f"{parts.dest_config.get('ignition', {}).get('version')}")
    if result.keyfiles:
        lines.append("network keyfiles: " + ", ".join(sorted(result.keyfiles)))
    if result.has_live_kargs:
        lines.append(f"live kargs: {kargs}" if kargs is not None else
                     f"live kargs: append {result.live_kargs_append} delete {result.live_kargs_delete} "
                     f"replace {result.live_kargs_replace}")
    size = f"compressed size: {len(payload)} bytes"
    if area_size is not None:
        size += f" of {area_size} ({100.0 * len(payload) / area_size:.1f}% of the embed area)"
    lines.append(size)
    return "\n".join(lines)


def resolve_dest_ignition_hash(options: CustomizeOptions, *, ca_cert: Optional[PathLike] = None) -> Optional[str]:
    """For ``--dest-ignition-url`` without a hash: fetch the config, validate it, set and return its digest.

    Nothing happens when there is no URL, a hash is given, or ``insecure_ignition`` is set. HTTPS
    is verified against ``ca_cert``, by default the first ``--ignition-ca``. A fetch failure raises
    FetchError saying how to go on without fetching.
    """
    if options.dest_ignition_url is None or options.dest_ignition_hash or options.insecure_ignition:
        return options.dest_ignition_hash
    from ..digests import digest_bytes
    from ..errors import FetchError
    from ..fetch import fetch_bytes

    url = options.dest_ignition_url
    if ca_cert is None and options.ignition_ca:
        ca_cert = options.ignition_ca[0]
    try:
        data = fetch_bytes(url, ca_cert=ca_cert)
    except FetchError as e:
        raise FetchError(f"{e.message}; to embed the URL anyway give --dest-ignition-hash DIGEST "
                         "or --insecure-ignition") from None
    load_user_config(data, url)
    if options.validate:
        check_config(data, url)
    options.dest_ignition_hash = digest_bytes(data, "sha512")
    return options.dest_ignition_hash
