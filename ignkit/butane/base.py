"""The base translation every variant shares: Butane's source checks, resources (``inline``/``local`` ->
data URLs, child configs), ``contents_local``, ``ssh_authorized_keys_local``, ``storage.trees``, mount
units, quadlets, and output shaped as Go marshals Ignition's structs.

Each translated dict records where it came from under :data:`O_KEY` (removed before output), so that
findings about the result can be reported at the Butane document's paths and positions. The pipeline
that drives this is :mod:`.translate`.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Callable, Optional

from ..configkind import is_butane
from .dataurl import escape, make_data_url
from .decode import Decoder
from .report import ButaneError, Entry, TranslateReport, YPath
from .schema import BField, BStruct, Spec

__all__ = ["Ctx", "O_KEY", "is_butane", "to_json", "go_shape", "read_local", "local_path", "check_source"]

#: Key under which each translated dict records where it came from (removed before output).
O_KEY = "\x00origin"

ERR_NO_FILES_DIR = ("local file paths are relative to a files directory that must be specified with "
                    "-d/--files-dir")
ERR_ESCAPE = "local file path traverses outside the files directory"
ERR_TOO_MANY_SOURCES = "only one of the following can be set: inline, local, source"
ERR_TOO_MANY_SYSTEMD = "only one of the following can be set: contents, contents_local"
ERR_DECIMAL_MODE = ("unreasonable mode would be reasonable if specified in octal; remember to add a "
                    "leading zero")
ERR_NODE_EXISTS = "matching filesystem node has existing contents or different type"
ERR_TREE_NOT_DIR = "root of tree must be a directory"
ERR_TREE_NO_LOCAL = "local is required"
ERR_FILE_TYPE = "trees may only contain files, directories, and symlinks"
ERR_MOUNT_NO_PATH = "path is required if with_mount_unit is true and format is not swap"
ERR_MOUNT_NO_FORMAT = "format is required if with_mount_unit is true"


def _no_child(*args: Any, **kw: Any) -> tuple[dict[str, Any], TranslateReport]:
    raise ButaneError("config is not valid")


def _no_variant(ctx: Ctx, v: dict[str, Any], path: YPath) -> None:
    return None


class Ctx:
    """State of one translation: the spec, options, findings and the origin of every output object."""

    def __init__(self, spec: Spec, files_dir: Optional[str], dec: Decoder, depth: int = 0) -> None:
        self.spec = spec
        self.files_dir = files_dir
        self.dec = dec
        self.entries: list[Entry] = []
        self.depth = depth
        self.raw = False
        # whether Butane ran a MergeTranslatedConfigs over the whole config (mount units, boot_device, grub):
        # after one, only non-zero values keep a path back to the source (see variants.translated)
        self.merged = False
        # set by the pipeline (avoids an import cycle): translate a Butane child, check a variant's sections
        self.translate_child: Callable[..., tuple[dict[str, Any], TranslateReport]] = _no_child
        self.check_variant: Callable[[Ctx, dict[str, Any], YPath], None] = _no_variant

    def where(self, path: Optional[YPath], at_key: bool = False) -> tuple[Optional[int], Optional[int]]:
        if path is None:
            return None, None
        if at_key and path in self.dec.kpos:
            return self.dec.kpos[path]
        p = path
        while True:
            got = self.dec.pos.get(p)
            if got is not None:
                return got
            if not p:
                return None, None
            p = p[:-1]

    def add(self, kind: str, path: Optional[YPath], message: str, at_key: bool = False) -> None:
        line, col = self.where(path, at_key)
        self.entries.append(Entry(kind, path, line, col, message))

    def error(self, path: YPath, message: str) -> None:
        self.add("error", path, message)

    def warn(self, path: YPath, message: str) -> None:
        self.add("warning", path, message)

    def origin(self, out: dict[str, Any], ypath: YPath, renames: Optional[dict[str, YPath]] = None,
               sugar: bool = False) -> None:
        """Record on ``out`` (a translated dict) the Butane path it comes from: ``renames`` maps its JSON
        keys that come from differently named Butane keys; ``sugar`` marks generated objects (every path
        below maps to ``ypath``)."""
        out[O_KEY] = (ypath, renames or {}, sugar)

    @property
    def fatal(self) -> bool:
        return any(e.kind == "error" for e in self.entries)


# --- local files ------------------------------------------------------------------------------------------


def local_path(rel: str, files_dir: str) -> str:
    """``files_dir`` joined with ``rel`` as Go's filepath.Join does it (a leading ``/`` does not escape);
    ValueError with Butane's message when the result is outside ``files_dir``.

    Like Butane, ``../`` that leaves the directory is refused; unlike Butane, so is a path whose symlinks
    lead out of it (the real path must stay inside the real directory).
    """
    joined = os.path.normpath(files_dir + "/" + rel)
    base = os.path.abspath(files_dir)
    full = os.path.abspath(joined)
    if full != base and not full.startswith(base + os.sep):
        raise ValueError(ERR_ESCAPE)
    real_base = os.path.realpath(base)
    real = os.path.realpath(full)
    if real != real_base and not real.startswith(real_base + os.sep):
        raise ValueError(ERR_ESCAPE)
    return joined


def read_local(rel: str, files_dir: Optional[str]) -> bytes:
    """A file under ``files_dir`` (see :func:`local_path`); ValueError with Butane's message otherwise."""
    if not files_dir:
        raise ValueError(ERR_NO_FILES_DIR)
    joined = local_path(rel, files_dir)
    try:
        with open(joined, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError(_go_path_error("open", joined, e)) from None


def _go_path_error(op: str, path: str, e: OSError) -> str:
    reason = (e.strerror or str(e)).lower()
    if e.errno == 21:
        return f"read {path}: is a directory"
    return f"{op} {path}: {reason}"


# --- source checks ----------------------------------------------------------------------------------------


def _typical_mode(mode: int, directory: bool) -> bool:
    if mode == 0:
        return True
    had_r = had_w = had_x = False
    for perm in (mode & 0o7, (mode & 0o70) >> 3, (mode & 0o700) >> 6):
        r, w, x = bool(perm & 4), bool(perm & 2), bool(perm & 1)
        if (not r and had_r) or (not w and had_w) or (not x and had_x):
            return False
        if x and had_r and not had_x:
            return False
        if (w or x) and not r:
            return False
        had_r, had_w, had_x = had_r or r, had_w or w, had_x or x
    if not had_r:
        return False
    if directory:
        if not had_x or mode & 0o4000 or (mode & 0o3000 and not had_w):
            return False
    else:
        if mode & 0o6000 and (not had_x or mode & 2):
            return False
        if mode & 0o1000:
            return False
    return True


def decimal_mode(mode: int, directory: bool) -> bool:
    """True when ``mode`` looks like an octal mode written in decimal (Butane's warning)."""
    if mode < 0 or mode > 7777:
        return False
    octal = 0
    for div in (1000, 100, 10, 1):
        d = (mode // div) % 10
        if d > 7:
            return False
        octal = (octal << 3) | d
    return not _typical_mode(mode, directory) and _typical_mode(octal, directory)


def check_source(ctx: Ctx, st: BStruct, v: dict[str, Any], path: YPath) -> None:
    """Butane's source validation, depth first in field order (the Go walker's order)."""
    name = st.name
    if name in ("Resource", "FileContents", "ConfigReference", "CaReference"):
        field = None
        n = 0
        for k in (("source", "inline") if ctx.spec.base == 1 else ("local", "inline", "source")):
            if k in v:
                n += 1
                field = k
        if n > 1 and field is not None:
            ctx.error(path + (field,), ERR_TOO_MANY_SOURCES)
        elif field == "inline" and path[:2] == ("ignition", "config"):
            _check_child(ctx, path, path + ("inline",), v["inline"].encode("utf-8"))
    elif name == "Filesystem":
        if v.get("with_mount_unit") is True and ctx.spec.base <= 3:  # no swap units yet: both always needed
            if not v.get("path"):
                ctx.error(path + ("path",), ERR_MOUNT_NO_PATH)
            if not v.get("format"):
                ctx.error(path + ("format",), ERR_MOUNT_NO_FORMAT)
        elif v.get("with_mount_unit") is True:
            if not v.get("format"):
                ctx.error(path + ("format",), ERR_MOUNT_NO_FORMAT)
            elif v["format"] != "swap" and not v.get("path"):
                ctx.error(path + ("path",), ERR_MOUNT_NO_PATH)
    elif name in ("File", "Directory"):
        if "mode" in v and decimal_mode(v["mode"], name == "Directory"):
            ctx.warn(path + ("mode",), ERR_DECIMAL_MODE)
    elif name == "Tree":
        if not v.get("local"):
            ctx.error(path, ERR_TREE_NO_LOCAL)
    elif name in ("Unit", "Dropin", "Quadlet"):
        if "contents_local" in v and "contents" in v and name != "Quadlet":
            ctx.error(path + ("contents_local",), ERR_TOO_MANY_SYSTEMD)
        if name == "Quadlet":
            qname = v.get("name", "")
            if quadlet_template(qname) is not None and ("contents" in v or "contents_local" in v):
                ctx.error(path, "template instances cannot have contents")
            if not qname.endswith(_QUADLET_EXT):
                ctx.error(path + ("name",), "unsupported file extension for quadlet: must be one of .container, "
                                            ".volume, .network, .kube, .image, .build, .pod, or .artifact")
    elif name == "Config":
        ctx.check_variant(ctx, v, path)
    for key, f in st.fields.items():
        sub = v.get(key)
        if sub is None:
            if f.kind == "struct" and f.struct is not None and f.struct.name in ("BootDevice", "Grub"):
                continue
            if f.kind == "struct" and f.struct is not None:
                sub = {}
            else:
                continue
        if f.kind == "struct" and f.struct is not None:
            check_source(ctx, f.struct, sub, path + (key,))
        elif f.kind == "list" and f.item is not None and f.item.kind == "struct" and f.item.struct is not None:
            for i, item in enumerate(sub):
                check_source(ctx, f.item.struct, item, path + (key, i))


_QUADLET_EXT = (".container", ".volume", ".network", ".kube", ".image", ".build", ".pod", ".artifact")


def quadlet_template(name: str) -> Optional[str]:
    """``foo@.container`` for an instance name ``foo@bar.container``; None for anything else."""
    at, dot = name.find("@"), name.find(".")
    if at == -1 or at + 1 == dot:
        return None
    return f"{name[:at]}@.{name[dot + 1:]}"


def _quadlets(ctx: Ctx, quadlets: list[dict[str, Any]], cfg: dict[str, Any]) -> None:
    storage = cfg.setdefault("storage", {})
    files = storage.setdefault("files", [])
    links = storage.setdefault("links", [])
    taken = {x.get("path") for x in files} | {x.get("path") for x in links} | {
        x.get("path") for x in storage.get("directories") or []}
    for i, q in enumerate(quadlets):
        yp: YPath = ("systemd", "quadlets", i)
        base = "/etc/containers/systemd" if q.get("rootful") else "/etc/containers/systemd/users"
        dest = f"{base}/{q.get('name', '')}"
        template = quadlet_template(q.get("name", ""))
        if dest in taken:
            ctx.error(yp, ERR_NODE_EXISTS)
            continue
        taken.add(dest)
        if template is not None:
            links.append(ctx_sugar({"path": dest, "target": template}, yp))
            continue
        data = b""
        if "contents_local" in q:
            try:
                data = read_local(q["contents_local"], ctx.files_dir)
            except ValueError as e:
                ctx.error(yp + ("contents_local",), str(e))
                continue
        if "contents" in q:
            data = q["contents"].encode("utf-8")
        url, comp = make_data_url(data, None)
        res: dict[str, Any] = {"source": url}
        if comp is not None:
            res["compression"] = comp
        files.append(ctx_sugar({"path": dest, "contents": res}, yp))
    for k in ("files", "links"):
        if not storage[k]:
            del storage[k]


def ctx_sugar(out: dict[str, Any], ypath: YPath) -> dict[str, Any]:
    out[O_KEY] = (ypath, {}, True)
    return out


# --- child configs in ignition.config -----------------------------------------------------------------------


def _check_child(ctx: Ctx, rpath: YPath, fpath: YPath, data: bytes) -> Optional[bytes]:
    """Validate an embedded merge/replace config as Butane does; a Butane child is translated first.

    Returns the bytes to embed (the child's Ignition JSON), or None when the child is invalid.
    """
    if is_butane(data):
        if ctx.depth > 8:
            ctx.error(fpath, "config is not valid")
            return None
        try:
            child, rep = ctx.translate_child(data, files_dir=ctx.files_dir, _depth=ctx.depth + 1)
        except ButaneError as e:
            for ent in (e.report.entries if isinstance(e.report, TranslateReport) else []):
                ctx.entries.append(Entry(ent.kind, None, ent.line, ent.column, ent.message))
            ctx.error(fpath, "config is not valid")
            return None
        for ent in rep.entries:
            ctx.entries.append(Entry(ent.kind, None, ent.line, ent.column, ent.message))
        if rep.ignition_version != ctx.spec.ignition:
            from ..ignition.translate import translate as up

            try:
                child = up(child, ctx.spec.ignition)
            except Exception:  # noqa: BLE001 - a newer child cannot be embedded in an older parent
                ctx.error(fpath, f"child config targets Ignition {rep.ignition_version}, newer than "
                                 f"{ctx.spec.ignition}")
                return None
        return to_json(child, ctx.spec.ignition).encode("utf-8")
    from ..ignition.validate import validate

    # Butane decodes the child into its own Ignition types (the parent's spec), checks the version, then
    # validates the whole child against that spec; findings are placed by path in the *parent* document.
    if not data.strip():
        return _child_unparsable(ctx, fpath, ["unexpected end of JSON input"])
    rep2 = validate(data, spec=None)
    version = rep2.version
    parse_errors = [e for e in rep2.entries if e.kind == "error" and e.path is None]
    if parse_errors and not any(e.parse_error for e in parse_errors):
        return _child_unparsable(ctx, fpath, [_as_config_type_error(pe.message) for pe in parse_errors])
    fatal = False
    if version is None or parse_errors:
        declared = _declared_version(data)
        if declared is not None and _SEMVER.match(declared):
            version = declared  # a version Ignition knows not (or not here): skipped below
        else:
            ctx.error(("ignition", "version"), "invalid config version (couldn't parse)")
            version = ctx.spec.ignition
            fatal = True
    if version != ctx.spec.ignition:
        ctx.warn(rpath + ("version",), "skipping validation for the merge/replace ignition config due to an "
                                       "unkown version")
        return data
    rep3 = validate(data, spec=ctx.spec.ignition)
    for ie in rep3.entries:
        path = _split(ie.path) if ie.path else None
        line, col = ctx.where(path) if path is not None else (1, 1)
        ctx.entries.append(Entry(ie.kind, path, line, col, _as_config_type_error(ie.message) if path is None
                                 else ie.message))
    if fatal or not rep3.ok:
        return None
    return data


_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?"
                     r"(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")


def _declared_version(data: bytes) -> Optional[str]:
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    ign = doc.get("ignition") if isinstance(doc, dict) else None
    ver = ign.get("version") if isinstance(ign, dict) else None
    return ver if isinstance(ver, str) else None


def _child_unparsable(ctx: Ctx, fpath: YPath, messages: list[str]) -> Optional[bytes]:
    for message in messages:
        ctx.entries.append(Entry("error", None, 1, 1, message))  # Butane places them at the document's start
    ctx.error(fpath, "config is not valid")
    return None


def _as_config_type_error(message: str) -> str:
    """A JSON type error worded for Butane's decoding into ``types.Config`` (ignkit reads the version first)."""
    return (message.replace("Go value of type util.versionStub", "Go value of type types.Config")
            .replace("Go struct field versionStub.ignition of type struct { Version string }",
                     "Go struct field Config.ignition of type types.Ignition")
            .replace("Go struct field versionStub.", "Go struct field Config."))


# --- translation --------------------------------------------------------------------------------------------


def _resource(ctx: Ctx, f: BField, v: dict[str, Any], path: YPath) -> dict[str, Any]:
    out = _struct_plain(ctx, f, v, path)
    renames: dict[str, YPath] = {}
    for key in ("local", "inline"):
        if key not in v:
            continue
        kp = path + (key,)
        if key == "local":
            try:
                data = read_local(v["local"], ctx.files_dir)
            except ValueError as e:
                ctx.error(kp, str(e))
                continue
            # Butane never validates local children (its path check misses them); Butane children are
            # translated (the merge.local gap)
            if path[:2] == ("ignition", "config") and is_butane(data):
                checked = _check_child(ctx, path, kp, data)
                if checked is None:
                    continue
                data = checked
        else:
            data = v["inline"].encode("utf-8", errors="surrogateescape")
            if path[:2] == ("ignition", "config") and is_butane(data):
                checked = _check_child(ctx, path, kp, data)
                if checked is None:
                    continue
                data = checked
        if ctx.spec.base == 1:
            # Butane's first base (fcos 1.0.0) always percent-encodes and leaves compression as written
            url, comp = "data:," + escape(data), None
        else:
            url, comp = make_data_url(data, out.get("compression"))
        out["source"] = url
        renames["source"] = kp
        if comp is not None and _has_compression(ctx, path):
            out["compression"] = comp
            renames["compression"] = kp
    ctx.origin(out, path, renames)
    return out


def _has_compression(ctx: Ctx, path: YPath) -> bool:
    if ctx.spec.base >= 2:
        return True
    return path[:2] == ("storage", "files")  # spec 3.0: only file contents know compression


def _struct_plain(ctx: Ctx, f: BField, v: dict[str, Any], path: YPath) -> dict[str, Any]:
    st = f.struct
    assert st is not None
    out: dict[str, Any] = {}
    for key, sub in st.fields.items():
        if sub.json is None or key not in v:
            continue
        out[sub.json] = _value(ctx, sub, v[key], path + (key,))
    return out


def _value(ctx: Ctx, f: BField, v: Any, path: YPath) -> Any:
    kind = f.kind
    if kind == "struct":
        st = f.struct
        assert st is not None
        name = st.name
        if name in ("Resource", "FileContents", "ConfigReference", "CaReference"):
            return _resource(ctx, f, v, path)
        out = _struct_plain(ctx, f, v, path)
        renames: dict[str, YPath] = {}
        if name in ("Unit", "Dropin") and "contents_local" in v:
            try:
                out["contents"] = read_local(v["contents_local"], ctx.files_dir).decode("utf-8", errors="replace")
                renames["contents"] = path + ("contents_local",)
            except ValueError as e:
                ctx.error(path + ("contents_local",), str(e))
        elif name == "PasswdUser" and v.get("ssh_authorized_keys_local"):
            _ssh_keys_local(ctx, v, out, path, renames)
        ctx.origin(out, path, renames)
        return out
    if kind == "list":
        item = f.item
        assert item is not None
        return [_value(ctx, item, x, path + (i,)) for i, x in enumerate(v)]
    return v


def _ssh_keys_local(ctx: Ctx, v: dict[str, Any], out: dict[str, Any], path: YPath,
                    renames: dict[str, YPath]) -> None:
    kp = path + ("ssh_authorized_keys_local",)
    if not ctx.files_dir:
        ctx.error(kp, ERR_NO_FILES_DIR)
        return
    keys = list(out.get("sshAuthorizedKeys", []))
    for i in range(len(keys)):
        renames[f"sshAuthorizedKeys.{i}"] = path + ("ssh_authorized_keys", i)
    for i, rel in enumerate(v["ssh_authorized_keys_local"]):
        try:
            data = read_local(rel, ctx.files_dir)
        except ValueError as e:
            ctx.error(kp + (i,), str(e))
            continue
        for line in re.split(r"\r?\n", data.decode("utf-8", errors="replace")):
            if line:
                renames[f"sshAuthorizedKeys.{len(keys)}"] = kp + (i,)
                keys.append(line)
    if keys:
        out["sshAuthorizedKeys"] = keys
    renames["sshAuthorizedKeys"] = kp


# --- trees --------------------------------------------------------------------------------------------------


def _trees(ctx: Ctx, trees: list[dict[str, Any]], cfg: dict[str, Any]) -> None:
    storage = cfg.setdefault("storage", {})
    for i, tree in enumerate(trees):
        yp: YPath = ("storage", "trees", i)
        if not ctx.files_dir:
            ctx.error(yp, ERR_NO_FILES_DIR)
            return
        rel = tree.get("local", "")
        try:
            src = local_path(rel, ctx.files_dir)
        except ValueError as e:
            ctx.error(yp, str(e))
            continue
        try:
            st = os.stat(src)
        except OSError as e:
            ctx.error(yp, _go_path_error("stat", src, e))
            continue
        import stat as statmod

        if not statmod.S_ISDIR(st.st_mode):
            ctx.error(yp, ERR_TREE_NOT_DIR)
            continue
        dest = tree.get("path") or "/"
        user = tree.get("user") or {}
        group = tree.get("group") or {}
        _walk_tree(ctx, yp, src, dest, storage, user, group, tree.get("file_mode"), tree.get("dir_mode"))


def _node(dest: str, user: dict[str, Any], group: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"path": dest}
    if user:
        out["user"] = dict(user)
    if group:
        out["group"] = dict(group)
    return out


def _walk_tree(ctx: Ctx, yp: YPath, src: str, dest_base: str, storage: dict[str, Any], user: dict[str, Any],
               group: dict[str, Any], file_mode: Optional[int], dir_mode: Optional[int]) -> None:
    import posixpath
    import stat as statmod

    files = storage.setdefault("files", [])
    dirs = storage.setdefault("directories", [])
    links = storage.setdefault("links", [])
    by_file = {f.get("path"): f for f in files}
    by_dir = {d.get("path") for d in dirs}
    by_link = {lk.get("path"): lk for lk in links}

    def exists(p: str) -> bool:
        return p in by_file or p in by_dir or p in by_link

    def claim(dest: str, by: dict[str, Any], nodes: list[Any], filled: Callable[[Any], bool]) -> Any:
        """The tree's node for ``dest`` (an existing one of this kind, or a new one); None after an error
        when ``dest`` is already given contents, or is a node of another kind."""
        node = by.get(dest)
        if node is not None:
            if filled(node):
                ctx.error(yp, ERR_NODE_EXISTS)
                return None
            return node
        if exists(dest):
            ctx.error(yp, ERR_NODE_EXISTS)
            return None
        node = _node(dest, user, group)
        nodes.append(node)
        by[dest] = node
        ctx.origin(node, yp, sugar=True)
        return node

    # filepath.Walk: lexical order, directories before their contents, symlinks not followed
    def walk(path: str) -> None:
        try:
            st = os.lstat(path)
        except OSError as e:
            ctx.error(yp, _go_path_error("lstat", path, e))
            return
        rel = os.path.relpath(path, src)
        dest = posixpath.join(dest_base, rel.replace(os.sep, "/")) if rel != "." else posixpath.normpath(dest_base)
        dest = posixpath.normpath(dest) if dest != "/" else dest
        if statmod.S_ISDIR(st.st_mode):
            if not (dir_mode is None and not user and not group):
                if exists(dest):
                    ctx.error(yp, ERR_NODE_EXISTS)
                else:
                    d = _node(dest, user, group)
                    d["mode"] = 0o755 if dir_mode is None else dir_mode
                    dirs.append(d)
                    by_dir.add(dest)
                    ctx.origin(d, yp, sugar=True)
            try:
                names = sorted(os.listdir(path))
            except OSError as e:
                ctx.error(yp, _go_path_error("open", path, e))
                return
            for name in names:
                walk(os.path.join(path, name))
        elif statmod.S_ISREG(st.st_mode):
            f = claim(dest, by_file, files, lambda n: bool((n.get("contents") or {}).get("source")))
            if f is None:
                return
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError as e:
                ctx.error(yp, _go_path_error("open", path, e))
                return
            contents = f.setdefault("contents", {})
            url, comp = make_data_url(data, contents.get("compression"))
            contents["source"] = url
            if comp is not None:
                contents["compression"] = comp
            if f.get("mode") is None:
                mode = 0o755 if st.st_mode & 0o111 else 0o644
                f["mode"] = file_mode if file_mode is not None else mode
        elif statmod.S_ISLNK(st.st_mode):
            lk = claim(dest, by_link, links, lambda n: bool(n.get("target")))
            if lk is None:
                return
            lk["target"] = os.readlink(path)
        else:
            ctx.error(yp, ERR_FILE_TYPE)

    walk(src)
    for k in ("files", "directories", "links"):
        if not storage[k]:
            del storage[k]


# --- mount units -------------------------------------------------------------------------------------------


def unit_path_escape(path: str) -> str:
    """systemd's ``unit_name_path_escape`` (``/var/lib/x`` -> ``var-lib-x``)."""
    import posixpath

    p = posixpath.normpath(path) if path else path
    p = p.strip("/")
    if not p:
        return "-"
    out = []
    for i, ch in enumerate(p.encode("utf-8")):
        c = chr(ch)
        if c == "/":
            out.append("-")
        elif (c.isascii() and (c.isalnum() or c in ":_.")) and not (i == 0 and c == "."):
            out.append(c)
        else:
            out.append(f"\\x{ch:02x}")
    return "".join(out)


def _mount_units(ctx: Ctx, v: dict[str, Any]) -> Optional[dict[str, Any]]:
    storage = v.get("storage") or {}
    fss = storage.get("filesystems") or []
    units = []
    for i, fs in enumerate(fss):
        if fs.get("with_mount_unit") is not True:
            continue
        device = fs.get("device", "")
        remote = False
        if device.startswith("/dev/mapper/") or device.startswith("/dev/disk/by-id/dm-name-"):
            for luks in storage.get("luks") or []:
                name = luks.get("name", "")
                if device in (f"/dev/mapper/{name}", f"/dev/disk/by-id/dm-name-{name}"):
                    if (luks.get("clevis") or {}).get("tang"):
                        remote = True
                        break
        unit = _mount_unit(ctx, fs, remote)
        ctx.origin(unit, ("storage", "filesystems", i, "with_mount_unit"), sugar=True)
        units.append(unit)
    if not units:
        return None
    return {"systemd": {"units": units}}


def _mount_unit(ctx: Ctx, fs: dict[str, Any], remote: bool) -> dict[str, Any]:
    device = fs.get("device", "")
    fmt = fs.get("format", "")
    swap = fmt == "swap"
    opts = list(fs.get("mount_options") or [])
    options = ""
    if ctx.spec.base >= 3 and (opts or remote):
        options = "\nOptions=" + ",".join(opts) + ("," if opts and remote else "") + ("_netdev" if remote else "")
    elif ctx.spec.base < 3 and opts:
        options = "\nOptions=" + ",".join(opts)
    esc = unit_path_escape(device)
    if swap:
        text = f"# Generated by Butane\n[Swap]\nWhat={device}{options}\n\n[Install]\nRequiredBy=swap.target"
        name = esc + ".swap"
    else:
        target = "remote-fs.target" if remote else "local-fs.target"
        text = (f"# Generated by Butane\n[Unit]\nRequires=systemd-fsck@{esc}.service\n"
                f"After=systemd-fsck@{esc}.service\n\n[Mount]\nWhere={fs.get('path', '')}\nWhat={device}\n"
                f"Type={fmt}{options}\n\n[Install]\nRequiredBy={target}")
        name = unit_path_escape(fs.get("path", "")) + ".mount"
    return {"contents": text, "enabled": True, "name": name}


# --- output -----------------------------------------------------------------------------------------------


def _required(spec: str) -> dict[str, set[str]]:
    from ..ignition.schema import load_schema

    got = _REQ.get(spec)
    if got is None:
        schema = load_schema(spec)
        got = {d.get("title", k): set(d.get("required", [])) for k, d in schema.get("definitions", {}).items()}
        got["Config"] = set(schema.get("required", []))
        for name, fields in _NON_POINTER.items():  # Go fields without a pointer: marshalled even when empty
            got.setdefault(name, set()).update(fields)
        if spec < "3.3.0":
            got.setdefault("Link", set()).add("target")  # a pointer only from spec 3.3
        _REQ[spec] = got
    return got


_REQ: dict[str, dict[str, set[str]]] = {}
_NON_POINTER = {"PasswdUser": {"name"}, "PasswdGroup": {"name"}, "Unit": {"name"}, "Dropin": {"name"},
                "Raid": {"name"}, "Luks": {"name"}, "HTTPHeader": {"name"}, "Disk": {"device"},
                "Filesystem": {"device"}, "Tang": {"url"}, "File": {"path"}, "Directory": {"path"},
                "Link": {"path"}}


def go_shape(cfg: dict[str, Any], spec: str) -> dict[str, Any]:
    """``cfg`` as Go marshals Ignition's structs: Go field order, empty structs and lists left out,
    required (non-pointer) fields always present."""
    from ..ignition.schema import field_tree

    req = _required(spec)

    def struct(st: Any, v: dict[str, Any], item: bool = False) -> Optional[dict[str, Any]]:
        out: dict[str, Any] = {}
        need = req.get(st.name, set())
        for name in st.order:
            f = st.fields[name]
            if name not in v or v[name] is None:
                if name in need and f.kind in ("string", "integer", "boolean"):
                    out[name] = {"string": "", "integer": 0, "boolean": False}[f.kind]
                continue
            x = v[name]
            if f.kind == "struct":
                sx = struct(f.struct, x) if isinstance(x, dict) else None
                if sx or (sx is not None and spec == "3.2.0" and f.struct.name in ("Clevis", "Custom")):
                    out[name] = sx  # (spec 3.2's clevis and custom are Go pointers: given, even empty, they stay)
            elif f.kind == "list":
                if x:
                    out[name] = [struct(f.item.struct, i, True) or {} if f.item.kind == "struct" and isinstance(i, dict)
                                 else i for i in x]
            else:
                if st.name == "Partition" and name == "number" and x == 0:
                    continue
                out[name] = x
        if (out or item) and spec == "3.0.0" and st.name == "ConfigReference" and "source" not in out:
            out = {"source": None, **out}  # spec 3.0's Go type: a pointer without omitempty
        return out

    return struct(field_tree(spec), cfg) or {}


def to_json(cfg: dict[str, Any], spec: Optional[str] = None, pretty: bool = False) -> str:
    """Serialize like Go's encoding/json (HTML characters escaped); ``spec`` orders fields Go's way."""
    if spec is not None:
        cfg = go_shape(cfg, spec)
    text = json.dumps(cfg, ensure_ascii=False, indent=2 if pretty else None,
                      separators=(",", ": ") if pretty else (",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))



def _split(p: str) -> YPath:
    parts = p.lstrip("$").lstrip(".")
    if not parts:
        return ()
    return tuple(int(x) if x.isdigit() else x for x in parts.split("."))


