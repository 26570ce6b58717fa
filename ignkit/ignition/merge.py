"""Ignition's config merge (``config/merge``) and the render of ``ignition.config`` merge/replace references.

:func:`merge` is the pure structure merge Ignition applies between a parent config and a child config
(both plain JSON dicts, normally already translated to the same spec version). :func:`resolve` renders a
config the way Ignition does at boot: it fetches ``ignition.config.replace`` / ``merge[]`` references
(``data:`` URLs, http(s), local files), checks their ``verification.hash``, validates and translates each
child, renders it depth-first and merges it in, and returns one flat config without references.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import gzip
import json
import os
import re
import tempfile
import urllib.parse
import zlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

__all__ = ["merge", "resolve", "merge_configs", "ConfigSource", "http_fetcher", "HttpFetcher"]

# ---------------------------------------------------------------------------------------------------------
# Which fields of the config are lists, and how their items are matched. Like Ignition, the merge uses the
# keys, shared handles and ignore set of the duplicate check (rules.dups.DUPS) over the field tree of the
# newest spec (schema.field_tree). A struct is described by a dict {json field name: descriptor}; scalars
# and unknown members are not listed and merge generically (objects member by member, anything else: the
# child's value wins when the child gives one).
# ---------------------------------------------------------------------------------------------------------


def _hashable(value: Any) -> Hashable:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value  # type: ignore[no-any-return]


def _safe_key(keyfn: Callable[[Any], Hashable]) -> Callable[[Any], Hashable]:
    def key(item: Any) -> Hashable:
        try:
            return keyfn(item)
        except Exception:  # an item of the wrong type (invalid config): match it only by its own value
            return ("<item>", _hashable(item))

    return key


class KeyedList:
    """A list whose items are matched by key; lists of one struct sharing a ``handle`` share one key space."""

    def __init__(self, key: Callable[[Any], Hashable], item: Optional[dict[str, Any]] = None,
                 handle: Optional[str] = None, headers: bool = False) -> None:
        self.key = key
        self.item = item
        self.handle = handle
        self.headers = headers  # HTTP headers: a matching child header without value deletes the parent's


class ConcatList:
    """A list where duplicates are allowed: the result is parent items then child items."""

    def __init__(self, item: Optional[dict[str, Any]] = None) -> None:
        self.item = item


@functools.cache
def merge_fields() -> dict[str, Any]:
    """The merge descriptor of a whole config (newest spec): structs as dicts, lists as
    :class:`KeyedList` / :class:`ConcatList`."""
    from .rules.dups import DUPS
    from .schema import field_tree
    from .versions import LATEST

    built: dict[int, dict[str, Any]] = {}

    def struct(st: Any) -> dict[str, Any]:
        if id(st) in built:
            return built[id(st)]
        desc: dict[str, Any] = {}
        built[id(st)] = desc
        keyed = {fname: (keyfn, handle) for fname, keyfn, handle in DUPS.get(st.name, [])}
        for name, f in st.fields.items():
            if f.kind == "struct":
                desc[name] = struct(f.struct)
            elif f.kind == "list":
                item = struct(f.item.struct) if f.item.kind == "struct" else None
                if name in keyed:
                    keyfn, handle = keyed[name]
                    desc[name] = KeyedList(_safe_key(keyfn), item, handle, headers=name == "httpHeaders")
                else:
                    desc[name] = ConcatList(item)
        return desc

    return struct(field_tree(LATEST))


# ---------------------------------------------------------------------------------------------------------
# The merge
# ---------------------------------------------------------------------------------------------------------


def merge(parent: dict, *children: dict) -> dict:
    """Merge Ignition configs with Ignition's own semantics; returns a new dict (inputs are not modified).

    ``merge(p, c1, c2)`` is ``merge(merge(p, c1), c2)``. Rules (Ignition ``config/merge``):

    * a scalar the child gives (non-null, even ``false``/``0``/``""``) wins; a child ``null`` or absent member
      keeps the parent's value; objects merge member by member;
    * keyed lists (files/directories/links by ``path`` sharing one key space, units, dropins, users, groups,
      disks, partitions by number or label, filesystems, luks, raid, tang servers, merge/CA references by
      ``source``, HTTP headers by ``name``, and lists of strings by value) keep the parent's items in place,
      merging the child's item with the same key into them, and append the child's new items in order;
      a child item of another kind with the same path (file vs directory vs link) or a kernel argument moved
      between ``shouldExist`` and ``shouldNotExist`` removes the parent's item; a child HTTP header without
      a ``value`` deletes the parent's header of that name;
    * ``files[].append``, filesystem ``options``/``mountOptions``, luks and raid ``options`` concatenate;
    * an empty child list never removes anything;
    * ``ignition.version`` is the child's when the child gives one.

    No validation and no version translation happen here: give configs of one spec version (see
    :func:`ignkit.ignition.translate.translate`). Nulls are dropped from the result.
    """
    fields = merge_fields()
    result = _clean(parent) if isinstance(parent, dict) else {}
    for child in children:
        if child is None:
            continue
        if not isinstance(child, dict):
            raise TypeError(f"merge: configs must be dicts, not {type(child).__name__}")
        result = _merge_struct(result, _clean(child), fields)
    return result


def _clean(value: Any) -> Any:
    """A deep copy without null object members."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return copy.copy(value)


def _merge_value(pv: Any, cv: Any, desc: Any) -> Any:
    if cv is None:
        return _clean(pv)
    if pv is None:
        return _clean(cv)
    if isinstance(pv, dict) and isinstance(cv, dict):
        return _merge_struct(pv, cv, desc if isinstance(desc, dict) else {})
    if isinstance(pv, list) and isinstance(cv, list) and not cv:
        # an unknown list: an empty child list specifies nothing
        return _clean(pv)
    return _clean(cv)


def _merge_struct(parent: dict, child: dict, desc: dict[str, Any]) -> dict:
    result: dict = {}
    names = list(parent) + [k for k in child if k not in parent]
    for name in names:
        d = desc.get(name)
        pv, cv = parent.get(name), child.get(name)
        if isinstance(d, KeyedList) and isinstance(pv, list) and isinstance(cv, list):
            value: Any = _merge_keyed(name, d, parent, child, desc)
            if pv and not value:
                continue  # every item was displaced: no list, as in Ignition's output
        elif isinstance(d, KeyedList) and isinstance(pv, list) and cv is None and d.handle:
            # the child may still displace items from a sibling list sharing the handle
            value = _merge_keyed(name, d, parent, child, desc)
            if pv and not value:
                continue  # every item was displaced: no list, as in Ignition's output
        elif isinstance(d, ConcatList) and isinstance(pv, list) and isinstance(cv, list):
            value = _clean(pv) + _clean(cv)
        elif isinstance(d, (KeyedList, ConcatList)) and isinstance(cv, list) and not cv and pv is not None:
            value = _clean(pv)
        else:
            value = _merge_value(pv, cv, d)
        if value is not None:
            result[name] = value
    return result


def _siblings(name: str, spec: KeyedList, desc: dict[str, Any]) -> list[str]:
    if not spec.handle:
        return []
    return [n for n, d in desc.items() if n != name and isinstance(d, KeyedList) and d.handle == spec.handle]


def _merge_keyed(name: str, spec: KeyedList, parent: dict, child: dict, desc: dict[str, Any]) -> list:
    plist: list = parent.get(name) or []
    clist: list = child.get(name) if isinstance(child.get(name), list) else []  # type: ignore[assignment]
    child_index: dict[Hashable, int] = {}
    for i, item in enumerate(clist):
        child_index.setdefault(spec.key(item), i)
    sibling_keys: set = set()
    for sib in _siblings(name, spec, desc):
        sl = child.get(sib)
        if isinstance(sl, list):
            sibling_keys.update(desc[sib].key(item) for item in sl)
    parent_keys = set()
    out: list = []
    for pitem in plist:
        key = spec.key(pitem)
        parent_keys.add(key)
        if key in child_index:
            citem = clist[child_index[key]]
            if spec.headers and isinstance(citem, dict) and citem.get("value") is None:
                continue  # a child header without value deletes the parent's
            if isinstance(pitem, dict) and isinstance(citem, dict):
                out.append(_merge_struct(pitem, citem, spec.item or {}))
            else:
                out.append(_clean(citem))
        elif key in sibling_keys:
            continue  # displaced by the child's item of another kind
        else:
            out.append(_clean(pitem))
    for citem in clist:
        if spec.key(citem) not in parent_keys:
            out.append(_clean(citem))
    return out




# ---------------------------------------------------------------------------------------------------------
# Rendering: parse, validate, fetch references, translate, merge
# ---------------------------------------------------------------------------------------------------------

#: ``fetch(url, headers) -> bytes``: how :func:`resolve` reads a reference that is not a ``data:`` URL or a
#: local file. The default reads http(s) with :mod:`ignkit.fetch` and refuses other schemes.
Fetcher = Callable[[str, "dict[str, str]"], bytes]

#: References nested deeper than this are taken for a loop.
MAX_DEPTH = 16
#: Largest config accepted from a reference.
MAX_CONFIG_SIZE = 64 * 1024 * 1024


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


@dataclass
class _Node:
    config: dict
    version: str
    name: str
    replace: Optional[_Node] = None
    merges: list = field(default_factory=list)


def resolve(config: Union[dict, bytes], *, base_dir: Optional[str] = None, fetch: Optional[Fetcher] = None,
            spec: Optional[str] = None) -> dict:
    """Render a config as Ignition does at boot and return it flat (without ``ignition.config``).

    ``ignition.config.replace`` (which discards the config) and then each ``ignition.config.merge[]``
    reference, in order, are fetched (``data:`` URLs; http(s) via ``fetch``; local files: ``file://`` URLs
    and plain paths, relative ones under ``base_dir``), decompressed (``gzip``), checked against
    ``verification.hash`` (:class:`~ignkit.errors.DigestMismatch`), validated on their own, rendered
    recursively (depth-first) and merged with :func:`merge`. Every config is translated to ``spec`` or, by
    default, to the newest spec version among the configs involved; the result is validated again.
    Invalid configs raise :class:`~ignkit.errors.InvalidConfig`, unreadable ones
    :class:`~ignkit.errors.InputError` / :class:`~ignkit.errors.FetchError`.
    """
    return merge_configs(ConfigSource(config, base_dir=base_dir), resolve=True, spec=spec, fetch=fetch)


def merge_configs(parent: Union[ConfigSource, bytes, dict], *children: Union[ConfigSource, bytes, dict],
                  resolve: bool = False, spec: Optional[str] = None, fetch: Optional[Fetcher] = None,
                  warnings: Optional[list] = None) -> dict:
    """Validate, translate and merge whole configs, as ``ignkit merge`` does; returns the result dict.

    Each input is validated on its own (:class:`~ignkit.errors.InvalidConfig` names the input), all are
    translated to ``spec`` or to the newest spec version among them, merged in order with :func:`merge`,
    and the result is validated. With ``resolve=True`` each input is first rendered like :func:`resolve`
    (its references flattened), and ``ignition.config`` is dropped from the result; without it the
    references are kept (merged by source) for Ignition to fetch at boot. Validation warnings of the
    inputs (e.g. ``unused key``: a member Ignition ignores) are appended to ``warnings`` when given, as
    ``<config name>: <warning line>``.
    """
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
    versions: list = []
    for node in nodes:
        _collect_versions(node, versions)
    if spec is not None:
        from .translate import spec_index
        spec_index(spec)
        target = spec
    else:
        from .translate import newest
        target = newest(versions)
    rendered = [_render(node, target) for node in nodes]
    result = merge(*rendered)
    ign = result.pop("ignition", None)
    ign = {k: v for k, v in ign.items() if k != "version"} if isinstance(ign, dict) else {}
    if resolve:
        ign.pop("config", None)
    result = {"ignition": {"version": target, **ign}, **result}
    _validate_result(result)
    return result


def _collect_versions(node: _Node, out: list) -> None:
    out.append(node.version)
    if node.replace is not None:
        _collect_versions(node.replace, out)
    for child in node.merges:
        _collect_versions(child, out)


def _render(node: _Node, target: str) -> dict:
    from ..errors import IgnkitError
    from .translate import translate

    if node.replace is not None:
        return _render(node.replace, target)
    try:
        merged = translate(node.config, target, from_version=node.version)
    except IgnkitError as e:
        raise _prefixed(e, node.name) from None
    for child in node.merges:
        merged = merge(merged, _render(child, target))
    return merged


def _prefixed(err: Exception, name: str) -> Exception:
    from ..errors import IgnkitError, InvalidConfig

    if isinstance(err, InvalidConfig):
        return InvalidConfig(f"{name}: {err.message}", err.report)
    if isinstance(err, IgnkitError):
        return type(err)(f"{name}: {err.message}")
    return err


# --- parsing and validation -------------------------------------------------------------------------------


_POSITION = re.compile(r", line \d+ col \d+")


def _report_errors(report: Any) -> list:
    return [str(e) for e in report.errors]


def _raise_errors(errors: list, name: str, report: Any) -> None:
    """Raise InvalidConfig naming the config with the first error line, if there are errors."""
    from ..errors import InvalidConfig

    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InvalidConfig(f"{name}: {errors[0]}{more}", report)


def _is_local_source_error(line: str, local_paths: Sequence[str]) -> bool:
    if "invalid url scheme" not in line:
        return False
    return any(f"at {p}{end}" in line for p in local_paths for end in (",", ":", ".source,", ".source:"))


def _load(data: Union[bytes, dict], name: str, warnings: Optional[list] = None) -> tuple:
    """Parse (if bytes) and validate one config on its own; returns (dict with Go's decoding, spec version).

    Errors name the config. The ``invalid url scheme`` errors of references to local files (an ignkit
    extension, resolved before Ignition sees the config) are not counted.
    """
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
        raise InvalidConfig(f"{name}: {(_report_errors(report) or ['config is not valid'])[0]}", report)
    local = _local_reference_paths(cfg)
    _raise_errors([e for e in _report_errors(report) if not _is_local_source_error(e, local)], name, report)
    if warnings is not None:
        warnings.extend(f"{name}: {w}" for w in report.warnings)
    return cfg, report.version


def _validate_result(result: dict) -> None:
    from ..errors import InvalidConfig
    from .validate import validate

    report = validate(json.dumps(result).encode())
    errors = [_POSITION.sub("", e) for e in _report_errors(report)]
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        hint = ""
        if "invalid url scheme" in errors[0] and "$.ignition.config." in errors[0]:
            hint = " (references to local files must be resolved)"
        raise InvalidConfig(f"merging configs resulted in an invalid config: {errors[0]}{more}{hint}", report)


# --- references ---------------------------------------------------------------------------------------------


def _references(cfg: dict) -> tuple:
    """(replace resource or None, [merge resources]) of a parsed config (keys matched like Go)."""
    from .translate import _member

    conf = _member(_member(cfg, "ignition"), "config")
    replace = _member(conf, "replace")
    merges = _member(conf, "merge")
    replace = replace if isinstance(replace, dict) and _member(replace, "source") else None
    merges = [m for m in merges if isinstance(m, dict)] if isinstance(merges, list) else []
    return replace, merges


def _is_local(source: str) -> bool:
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    return scheme == "file" or scheme == ""


def _local_reference_paths(cfg: dict) -> list:
    replace, merges = _references(cfg)
    paths = []
    if replace is not None and _is_local(str(replace.get("source"))):
        paths.append("$.ignition.config.replace")
    for i, m in enumerate(merges):
        src = m.get("source")
        if isinstance(src, str) and src and _is_local(src):
            paths.append(f"$.ignition.config.merge.{i}")
    return paths


def _expand(node: _Node, base_dir: Optional[str], local_refs: bool, ctx: _Ctx, depth: int) -> None:
    from ..errors import InvalidConfig

    _add_cas(node, base_dir, local_refs, ctx.fetch)
    replace, merges = _references(node.config)
    if (replace is not None or merges) and depth >= MAX_DEPTH:
        raise InvalidConfig(f"{node.name}: references nested more than {MAX_DEPTH} deep (a loop?)")
    if replace is not None:
        node.replace = _fetch_child(replace, f"{node.name} -> replace", base_dir, local_refs, ctx, depth)
        return  # the replaced config's merge list is discarded with it
    for i, ref in enumerate(merges):
        src = ref.get("source")
        if not isinstance(src, str) or not src:
            raise InvalidConfig(f"{node.name}: ignition.config.merge.{i}: source is required")
        child = _fetch_child(ref, f"{node.name} -> merge[{i}]", base_dir, local_refs, ctx, depth)
        node.merges.append(child)


def _add_cas(node: _Node, base_dir: Optional[str], local_refs: bool, fetcher: Fetcher) -> None:
    """Like Ignition, trust the config's ignition.security.tls.certificateAuthorities for later https fetches."""
    from .translate import _member

    add = getattr(fetcher, "add_ca", None)
    if add is None:
        return
    cas = _member(_member(_member(_member(node.config, "ignition"), "security"), "tls"), "certificateAuthorities")
    for i, ref in enumerate(cas if isinstance(cas, list) else []):
        if isinstance(ref, dict) and isinstance(ref.get("source"), str) and ref["source"]:
            pem, _, _ = _read_reference(ref, f"{node.name} -> certificateAuthorities[{i}] ({_short(ref['source'])})",
                                        base_dir, local_refs, fetcher)
            add(pem)


def _short(source: str) -> str:
    return source if len(source) <= 60 else source[:57] + "..."


def _read_reference(ref: dict, name: str, base_dir: Optional[str], local_refs: bool,
                    fetcher: Fetcher) -> tuple:
    """Fetch, decompress and verify one resource; returns (bytes, base_dir, local_refs) for what it names."""
    from ..errors import InputError

    source = str(ref.get("source"))
    child_base, child_local = base_dir, local_refs
    scheme = urllib.parse.urlsplit(source).scheme.lower()
    if scheme == "data":
        raw = _decode_data_url(source, name)
    elif scheme in ("", "file"):
        if not local_refs:
            raise InputError(f"{name}: a config fetched from the network cannot reference local files")
        path = _local_path(source, base_dir)
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_CONFIG_SIZE + 1)
        except OSError as e:
            raise InputError(f"{name}: {e.strerror or e}") from None
        child_base = os.path.dirname(path)
    else:
        headers = {}
        for h in ref.get("httpHeaders") or []:
            if isinstance(h, dict) and isinstance(h.get("name"), str) and h.get("value") is not None:
                headers[h["name"]] = str(h["value"])
        try:
            raw = fetcher(source, headers)
        except Exception as e:
            raise _prefixed(e, name) from None
        child_local = False
    if len(raw) > MAX_CONFIG_SIZE:
        raise InputError(f"{name}: larger than {MAX_CONFIG_SIZE} bytes")
    raw = _decompress(raw, ref.get("compression"), name)
    _verify(raw, ref.get("verification"), name)
    return raw, child_base, child_local


def _fetch_child(ref: dict, label: str, base_dir: Optional[str], local_refs: bool, ctx: _Ctx,
                 depth: int) -> _Node:
    name = f"{label} ({_short(str(ref.get('source')))})"
    raw, child_base, child_local = _read_reference(ref, name, base_dir, local_refs, ctx.fetch)
    cfg, version = _load(raw, name, ctx.warnings)
    node = _Node(cfg, version, name)
    _expand(node, child_base, child_local, ctx, depth + 1)
    return node


def _local_path(source: str, base_dir: Optional[str]) -> str:
    parts = urllib.parse.urlsplit(source)
    path = urllib.parse.unquote(parts.path) if parts.scheme.lower() == "file" else source
    path = os.path.expanduser(path)
    if not os.path.isabs(path):
        path = os.path.join(base_dir or ".", path)
    return path


def _decode_data_url(url: str, name: str) -> bytes:
    from ..errors import InputError

    rest = url.split(":", 1)[1]
    if "," not in rest:
        raise InputError(f"{name}: malformed data: URL (no comma)")
    meta, payload = rest.split(",", 1)
    data = urllib.parse.unquote_to_bytes(payload)
    if meta.lower().split(";")[-1].strip() == "base64":
        compact = b"".join(data.split())
        compact += b"=" * (-len(compact) % 4)
        try:
            return base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            try:
                return base64.urlsafe_b64decode(compact)
            except (binascii.Error, ValueError):
                raise InputError(f"{name}: data: URL is not valid base64") from None
    return data


def _decompress(raw: bytes, compression: Any, name: str) -> bytes:
    from ..errors import InputError

    if compression in (None, ""):
        return raw
    if compression != "gzip":
        raise InputError(f"{name}: unsupported compression {compression!r}")
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise InputError(f"{name}: cannot gunzip: {e}") from None


def _verify(raw: bytes, verification: Any, name: str) -> None:
    from ..digests import digest_bytes, parse_digest
    from ..errors import DigestMismatch, IgnkitError

    expected = verification.get("hash") if isinstance(verification, dict) else None
    if not expected:
        return
    try:
        algo, want = parse_digest(str(expected))
    except IgnkitError as e:
        raise _prefixed(e, name) from None
    got = digest_bytes(raw, algo)
    if got != f"{algo}-{want}":
        raise DigestMismatch(f"{name}: hash verification failed (calculated {got} but expected {expected})")


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
