"""Render Ignition configs the way Ignition does at boot: fetch ``ignition.config`` replace/merge references.

:func:`resolve` fetches ``ignition.config.replace`` / ``merge[]`` references (``data:`` URLs, http(s), local
files), checks their ``verification.hash``, validates and translates each child, renders it depth-first and
merges it in with :func:`ignkit.ignition.merge.merge`, and returns one flat config without references.
:func:`merge_configs` is what ``ignkit merge`` runs: validate, optionally resolve, translate and merge whole
configs, then validate the result.
"""

from __future__ import annotations

import os
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from .merge import merge

__all__ = ["resolve", "merge_configs", "ConfigSource", "Fetcher", "HttpFetcher", "http_fetcher",
           "MAX_DEPTH", "MAX_CONFIG_SIZE"]

#: ``fetch(url, headers) -> bytes``: how :func:`resolve` reads a reference that is not a ``data:`` URL or a
#: local file. The default reads http(s) with :mod:`ignkit.fetch` and refuses other schemes.
Fetcher = Callable[[str, "dict[str, str]"], bytes]

#: References nested deeper than this are refused.
MAX_DEPTH = 16
#: Largest config accepted from a reference (as fetched, and once decompressed).
MAX_CONFIG_SIZE = 64 * 1024 * 1024
#: Most distinct referenced configs read (files, URLs) in one run: each is read once, however often and under
#: whatever spelling it is referenced, but distinct URLs (e.g. query strings) could still multiply.
MAX_RESOURCES = 100
#: Most bytes read from referenced configs in one run.
MAX_TOTAL_BYTES = 4 * MAX_CONFIG_SIZE


@dataclass
class ConfigSource:
    """One input config: raw bytes (preferred: validation reports line/column) or an already parsed dict.

    ``name`` labels messages; ``base_dir`` is where relative local-file references are looked up
    (None: the current directory); ``local_refs`` allows references to local files at all.
    """

    data: Union[bytes, dict]
    name: str = "config"
    base_dir: Optional[str] = None
    local_refs: bool = True


@dataclass
class _Ctx:
    fetch: Fetcher
    warnings: Optional[list]
    nodes: dict = field(default_factory=dict)  # resource key -> its expanded _Node (each read once)
    reads: int = 0
    read_bytes: int = 0


@dataclass
class _Node:
    config: dict  # as the validator decoded it: canonical member names, no nulls, no unknown members
    version: str
    name: str
    origin: Optional[str] = None  # the file or URL it came from, to tell a reference loop
    replace: Optional[_Node] = None
    merges: list = field(default_factory=list)


def resolve(config: Union[dict, bytes], *, base_dir: Optional[str] = None, fetch: Optional[Fetcher] = None,
            spec: Optional[str] = None) -> dict:
    """Render a config as Ignition does at boot and return it flat (without ``ignition.config``).

    ``ignition.config.replace`` (which discards the config) or else each ``ignition.config.merge[]``
    reference, in order, is fetched (``data:`` URLs; http(s) via ``fetch``; local files: ``file://`` URLs
    and plain paths, relative ones under ``base_dir``), decompressed (``gzip``), checked against
    ``verification.hash`` (:class:`~ignkit.errors.DigestMismatch`), validated on its own, rendered
    recursively (depth-first) and merged with :func:`~ignkit.ignition.merge.merge`. Every config is
    translated to ``spec`` or, by default, to the newest spec version among the configs involved; the
    result is validated again. Invalid configs and reference loops raise
    :class:`~ignkit.errors.InvalidConfig`, unreadable ones :class:`~ignkit.errors.InputError` /
    :class:`~ignkit.errors.FetchError`.
    """
    return merge_configs(ConfigSource(config, base_dir=base_dir), resolve=True, spec=spec, fetch=fetch)


def merge_configs(parent: Union[ConfigSource, bytes, dict], *children: Union[ConfigSource, bytes, dict],
                  resolve: bool = False, spec: Optional[str] = None, fetch: Optional[Fetcher] = None,
                  warnings: Optional[list] = None) -> dict:
    """Validate, translate and merge whole configs, as ``ignkit merge`` does; returns the result dict.

    Each input is validated on its own (:class:`~ignkit.errors.InvalidConfig` names the input), all are
    translated to ``spec`` or to the newest spec version among them, merged in order with
    :func:`~ignkit.ignition.merge.merge`, and the result is validated. With ``resolve=True`` each input is
    first rendered like :func:`resolve` (its references flattened), and ``ignition.config`` is dropped
    from the result; without it the references are kept (merged by source) for Ignition to fetch at boot.
    Validation warnings of the inputs (e.g. ``unused key``: a member Ignition ignores) are appended to
    ``warnings`` when given, as ``<config name>: <warning line>``.
    """
    from .translate import newest, spec_index

    sources = [s if isinstance(s, ConfigSource) else ConfigSource(s, name="parent" if i == 0 else f"child {i}")
               for i, s in enumerate((parent, *children))]
    ctx = _Ctx(fetch or http_fetcher(), warnings)
    nodes = []
    for src in sources:
        cfg, version = _load(src.data, src.name, warnings)
        node = _Node(cfg, version, src.name)
        if resolve:
            _expand(node, src.base_dir, src.local_refs, ctx, depth=0)
        nodes.append(node)
    if spec is not None:
        spec_index(spec)
        target = spec
    else:
        target = newest(v for node in nodes for v in _versions(node))
    result = merge(*(_render(node, target) for node in nodes))
    ign = result.pop("ignition", None)
    ign = {k: v for k, v in ign.items() if k != "version"} if isinstance(ign, dict) else {}
    if resolve:
        ign.pop("config", None)
    result = {"ignition": {"version": target, **ign}, **result}
    _validate_result(result)
    return result


def _versions(node: _Node, seen: Optional[set] = None) -> list:
    """The spec versions of ``node`` and everything it references (each shared node visited once)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return []
    seen.add(id(node))
    out = [node.version]
    for child in ([node.replace] if node.replace is not None else []) + node.merges:
        out += _versions(child, seen)
    return out


def _render(node: _Node, target: str, memo: Optional[dict] = None) -> dict:
    """``node`` flattened: translated, its references merged in (a node referenced many times is rendered
    once; each use gets its own copy)."""
    import copy

    from ..errors import IgnkitError
    from .translate import translate

    memo = {} if memo is None else memo
    if id(node) in memo:
        return copy.deepcopy(memo[id(node)])
    if node.replace is not None:
        merged = _render(node.replace, target, memo)
    else:
        try:
            merged = translate(node.config, target, from_version=node.version)
        except IgnkitError as e:
            raise _prefixed(e, node.name) from None
        for child in node.merges:
            merged = merge(merged, _render(child, target, memo))
    memo[id(node)] = copy.deepcopy(merged)
    return merged


def _prefixed(err: Exception, name: str, drop: str = "") -> Exception:
    """``err`` with ``name: `` in front of its message (and its own leading ``drop`` removed)."""
    from ..errors import IgnkitError, InvalidConfig

    if not isinstance(err, IgnkitError):
        return err
    message = err.message[len(drop):] if drop and err.message.startswith(drop) else err.message
    if isinstance(err, InvalidConfig):
        return InvalidConfig(f"{name}: {message}", err.report)
    return type(err)(f"{name}: {message}")


# --- validation -------------------------------------------------------------------------------------------


def _first_of(lines: list) -> str:
    return lines[0] + (f" (and {len(lines) - 1} more)" if len(lines) > 1 else "")


def _load(data: Union[bytes, dict], name: str, warnings: Optional[list] = None) -> tuple:
    """Parse (if bytes) and validate one config on its own; returns (dict with Go's decoding, spec version).

    Errors name the config. The ``invalid url scheme`` errors of references to local files (an ignkit
    extension, resolved before Ignition sees the config) are not counted.
    """
    import json

    from ..errors import InputError, InvalidConfig
    from .validate import validate

    if isinstance(data, dict):
        raw = json.dumps(data).encode()
    elif isinstance(data, (bytes, bytearray)):
        raw = bytes(data)
    else:
        raise InputError(f"{name}: a config must be bytes or a dict")
    report = validate(raw)
    cfg = report.config
    if not isinstance(cfg, dict) or report.version is None:
        raise InvalidConfig(f"{name}: {_first_of([str(e) for e in report.errors] or ['config is not valid'])}",
                            report)
    local = _local_reference_paths(cfg)
    errors = [str(e) for e in report.errors if not (e.message == "invalid url scheme" and e.path in local)]
    if errors:
        raise InvalidConfig(f"{name}: {_first_of(errors)}", report)
    if warnings is not None:
        warnings.extend(f"{name}: {w}" for w in report.warnings)
    return cfg, report.version


def _validate_result(result: dict) -> None:
    import json

    from ..errors import InvalidConfig
    from .validate import validate

    report = validate(json.dumps(result).encode())
    # positions would point into a document nobody has seen
    errors = [str(e).replace(f", line {e.line} col {e.column}", "") for e in report.errors]
    if errors:
        hint = ""
        if report.errors[0].message == "invalid url scheme" and "$.ignition.config." in errors[0]:
            hint = " (references to local files must be resolved)"
        raise InvalidConfig(f"merging configs resulted in an invalid config: {_first_of(errors)}{hint}", report)


# --- references ---------------------------------------------------------------------------------------------


def _references(cfg: dict) -> tuple:
    """(replace resource or None, [merge resources]) of a validated config."""
    conf = cfg.get("ignition", {}).get("config", {})
    replace = conf.get("replace")
    return (replace if replace and replace.get("source") else None), conf.get("merge", [])


def _is_local(source: Any) -> bool:
    return isinstance(source, str) and bool(source) and urllib.parse.urlsplit(source).scheme.lower() in ("", "file")


def _local_reference_paths(cfg: dict) -> set:
    """JSON paths (with and without ``.source``) of the references to local files."""
    replace, merges = _references(cfg)
    refs = [("$.ignition.config.replace", replace)] + [(f"$.ignition.config.merge.{i}", m) for i, m in
                                                       enumerate(merges)]
    return {p + end for p, ref in refs if ref and _is_local(ref.get("source")) for end in ("", ".source")}


def _expand(node: _Node, base_dir: Optional[str], local_refs: bool, ctx: _Ctx, depth: int,
            ancestors: tuple = ()) -> None:
    from ..errors import InvalidConfig

    _add_cas(node, base_dir, local_refs, ctx.fetch)
    replace, merges = _references(node.config)
    if (replace is not None or merges) and depth >= MAX_DEPTH:
        raise InvalidConfig(f"{node.name}: references nested more than {MAX_DEPTH} deep")
    if node.origin is not None:
        ancestors += (node.origin,)
    refs = [("replace", replace)] if replace is not None else [(f"merge[{i}]", m) for i, m in enumerate(merges)]
    for label, ref in refs:  # a replaced config's merge list is discarded with it
        name = f"{node.name} -> {label} ({_short(ref['source'])})"
        key = _resource_key(ref, base_dir, local_refs)
        cached = ctx.nodes.get(key) if key is not None else None
        if cached is not None:
            if cached.origin is not None and cached.origin in ancestors:
                raise InvalidConfig(f"{name}: reference loop ({cached.origin} is already being rendered)")
            child = cached
        else:
            ctx.reads += 1
            if ctx.reads > MAX_RESOURCES:
                raise InvalidConfig(f"{name}: more than {MAX_RESOURCES} referenced configs to read")
            raw, child_base, child_local, origin = _read_reference(ref, name, base_dir, local_refs, ctx.fetch)
            ctx.read_bytes += len(raw)
            if ctx.read_bytes > MAX_TOTAL_BYTES:
                raise InvalidConfig(f"{name}: referenced configs add up to more than {MAX_TOTAL_BYTES} bytes")
            if origin is not None and origin in ancestors:
                raise InvalidConfig(f"{name}: reference loop ({origin} is already being rendered)")
            cfg, version = _load(raw, name, ctx.warnings)
            child = _Node(cfg, version, name, origin)
            _expand(child, child_base, child_local, ctx, depth + 1, ancestors)
            if key is not None:
                ctx.nodes[key] = child
        if label == "replace":
            node.replace = child
        else:
            node.merges.append(child)


def _resource_key(ref: dict, base_dir: Optional[str], local_refs: bool) -> Optional[tuple]:
    """What identifies a referenced resource once read (None: a data: URL, read in place each time).

    Local paths are normalized (``a/../b``, ``./b``, ``file://`` and symlinks are one file); URLs are
    taken as written. The reference's compression and hash are part of the key (they change what is read).
    """
    source = ref["source"]
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    if scheme == "data":
        return None
    if scheme in ("", "file"):
        if not local_refs:
            return None  # refused when read
        where = ("file", os.path.realpath(_local_path(source, base_dir)))
    else:
        headers = tuple(sorted((h["name"], str(h.get("value"))) for h in ref.get("httpHeaders", [])))
        where = ("url", source, headers)  # type: ignore[assignment]
    return (*where, ref.get("compression"), ref.get("verification", {}).get("hash"))


def _add_cas(node: _Node, base_dir: Optional[str], local_refs: bool, fetcher: Fetcher) -> None:
    """Like Ignition, trust the config's ignition.security.tls.certificateAuthorities for later https fetches."""
    add = getattr(fetcher, "add_ca", None)
    if add is None:
        return
    cas = node.config.get("ignition", {}).get("security", {}).get("tls", {}).get("certificateAuthorities", [])
    for i, ref in enumerate(cas):
        if ref.get("source"):
            name = f"{node.name} -> certificateAuthorities[{i}] ({_short(ref['source'])})"
            add(_read_reference(ref, name, base_dir, local_refs, fetcher)[0])


def _short(source: str) -> str:
    return source if len(source) <= 60 else source[:57] + "..."


def _read_reference(ref: dict, name: str, base_dir: Optional[str], local_refs: bool, fetcher: Fetcher) -> tuple:
    """Fetch, decompress and verify one resource.

    Returns (bytes, base_dir and local_refs for what it references, origin: its file or URL or None).
    """
    from ..errors import InputError
    from .dataurl import decode_data_url, decompress

    source = ref["source"]
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    child_base: Optional[str]
    child_local: bool
    if scheme == "data":
        raw, child_base, child_local, origin = decode_data_url(source, name), base_dir, local_refs, None
    elif scheme in ("", "file"):
        if not local_refs:
            raise InputError(f"{name}: a config fetched from the network cannot reference local files")
        path = os.path.realpath(_local_path(source, base_dir))
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_CONFIG_SIZE + 1)
        except OSError as e:
            raise InputError(f"{name}: cannot read {path}: {e.strerror or e}") from None
        child_base, child_local, origin = os.path.dirname(path), local_refs, path
    else:
        headers = {h["name"]: str(h["value"]) for h in ref.get("httpHeaders", []) if h.get("value") is not None}
        try:
            raw = fetcher(source, headers)
        except Exception as e:
            raise _prefixed(e, name, drop=f"{source}: ") from None  # the name shows the URL already
        child_base, child_local, origin = base_dir, False, source
    if len(raw) > MAX_CONFIG_SIZE:
        raise InputError(f"{name}: larger than {MAX_CONFIG_SIZE} bytes")
    raw = decompress(raw, ref.get("compression"), name, max_size=MAX_CONFIG_SIZE)
    return _verified(raw, ref, name), child_base, child_local, origin


def _verified(raw: bytes, ref: dict, name: str) -> bytes:
    """``raw`` once it matches the reference's ``verification.hash`` (if any)."""
    from ..digests import digest_bytes, parse_digest
    from ..errors import DigestMismatch, IgnkitError

    expected = ref.get("verification", {}).get("hash")
    if not expected:
        return raw
    try:
        algo, want = parse_digest(expected)
    except IgnkitError as e:
        raise _prefixed(e, name) from None
    got = digest_bytes(raw, algo)
    if got != f"{algo}-{want}":
        raise DigestMismatch(f"{name}: hash verification failed (calculated {got} but expected {expected})")
    return raw


def _local_path(source: str, base_dir: Optional[str]) -> str:
    parts = urllib.parse.urlsplit(source)
    path = urllib.parse.unquote(parts.path) if parts.scheme.lower() == "file" else source
    path = os.path.expanduser(path)
    return os.path.join(base_dir or ".", path)  # an absolute path stays as it is


class HttpFetcher:
    """The default :data:`Fetcher`: reads http(s) references with :mod:`ignkit.fetch`, sending the reference's
    ``httpHeaders`` and trusting ``ca_cert`` (or the system CAs) plus the CAs added with :meth:`add_ca`
    (:func:`resolve` adds each config's ``ignition.security.tls.certificateAuthorities``, as Ignition does).
    Other schemes (tftp, s3, gs, arn) raise :class:`~ignkit.errors.FetchError`."""

    def __init__(self, *, ca_cert: Optional[str] = None, insecure: bool = False) -> None:
        self.ca_cert = ca_cert
        self.insecure = insecure
        self.extra_cas: list = []

    def add_ca(self, pem: bytes) -> None:
        """Trust the PEM certificate(s) ``pem`` too for the following https fetches."""
        if pem not in self.extra_cas:
            self.extra_cas.append(pem)

    def __call__(self, url: str, headers: dict) -> bytes:
        from ..errors import FetchError

        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(f"cannot fetch {scheme}: references (ignkit reads data:, http(s) and local files)")
        if scheme == "https" and self.extra_cas and not self.insecure:
            with tempfile.TemporaryDirectory(prefix="ignkit-ca.") as tmp:
                bundle = os.path.join(tmp, "ca-bundle.pem")
                with open(bundle, "wb") as f:
                    f.write(_base_bundle(self.ca_cert))
                    for pem in self.extra_cas:
                        f.write(b"\n" + pem.strip() + b"\n")
                return self._get(url, headers, bundle)
        return self._get(url, headers, self.ca_cert)

    def _get(self, url: str, headers: dict, ca_cert: Optional[str]) -> bytes:
        from ..fetch import fetch_bytes

        return fetch_bytes(url, max_size=MAX_CONFIG_SIZE, ca_cert=ca_cert, insecure=self.insecure,
                           headers=headers or None)


def _base_bundle(ca_cert: Optional[str]) -> bytes:
    path = ca_cert
    if path is None:
        import requests.utils

        path = requests.utils.DEFAULT_CA_BUNDLE_PATH
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def http_fetcher(*, ca_cert: Optional[str] = None, insecure: bool = False) -> HttpFetcher:
    """A new default fetcher with these TLS settings (see :class:`HttpFetcher`)."""
    return HttpFetcher(ca_cert=ca_cert, insecure=insecure)
