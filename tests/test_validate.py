"""ignkit.ignition.validate / versions / jsonpos and the ``ignkit validate`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ignkit.errors import InvalidConfig
from ignkit.ignition.jsonpos import PosTree, syntax_error
from ignkit.ignition.report import Entry, Report
from ignkit.ignition.validate import detect_version, parse_config, validate
from ignkit.ignition.versions import SUPPORTED, VersionError, parse_semver


def cfg(spec: str = "3.3.0", **sections: Any) -> bytes:
    doc: dict[str, Any] = {"ignition": {"version": spec}}
    doc.update(sections)
    return json.dumps(doc, separators=(",", ":")).encode()


def lines(raw: bytes | str | dict, **kw: Any) -> list[str]:  # type: ignore[type-arg]
    return validate(raw, **kw).lines()


# ---------------------------------------------------------------------------------------------
# Report model


def test_report_model_and_line_format() -> None:
    r = validate(cfg(storage={"files": [{"path": "relative"}]}, foo=1))
    assert isinstance(r, Report) and r.version == "3.3.0" and not r.ok
    assert [str(e) for e in r.errors] == ["error at $.storage.files.0.path, line 1 col 61: path not absolute"]
    assert [str(e) for e in r.warnings] == ["warning at $.foo, line 1 col 75: unused key foo"]
    e = r.errors[0]
    assert (e.kind, e.path, e.line, e.column, e.message) == (
        "error", "$.storage.files.0.path", 1, 61, "path not absolute")
    assert r.lines() == [str(x) for x in r.entries]
    assert validate(cfg()).ok and validate(cfg()).entries == []


def test_entry_variants() -> None:
    assert str(Entry("error", None, 1, 2, "boom")) == "error at line 1 col 2: boom"
    assert str(Entry("warning", "$.a", None, None, "w")) == "warning at $.a: w"
    assert str(Entry("error", None, None, None, "unsupported config version", parse_error=True)) == \
        "couldn't parse config: unsupported config version"


def test_dict_input_has_no_positions() -> None:
    r = validate({"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "x"}]}})
    assert r.lines() == ["error at $.storage.files.0.path: path not absolute"]
    assert r.errors[0].line is None


def test_dict_input_with_values_json_cannot_hold() -> None:
    import datetime

    r = validate({"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": datetime.date(2020, 1, 1)}]}})
    assert r.lines() == ["error: json: unsupported type: date"] and not r.ok
    r = validate({"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "/a", "mode": float("nan")}]}})
    assert r.lines() == ["error: json: unsupported value: nan"]


def test_spec_override() -> None:
    raw = cfg("3.0.0", kernelArguments={"shouldExist": ["a"]})
    assert lines(raw) == ["warning at $.kernelArguments, line 1 col 33: unused key kernelArguments"]
    assert lines(raw, spec="3.3.0") == []


# ---------------------------------------------------------------------------------------------
# Versions


def test_supported_versions_and_detection() -> None:
    assert SUPPORTED == ["3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0", "3.7.0-experimental"]
    for spec in SUPPORTED:
        assert detect_version(cfg(spec)) == spec
        assert validate(cfg(spec)).ok
    assert detect_version(b'{"ignition":{"version":"03.3.0"}}') == "3.3.0"  # go-semver leading zeros
    assert detect_version({"Ignition": {"VERSION": "3.2.0"}}) == "3.2.0"  # a dict's keys match like Go's
    with pytest.raises(VersionError):
        detect_version({"ignition": {}})
    with pytest.raises(InvalidConfig, match="cannot unmarshal number"):
        detect_version({"ignition": {"version": 3.3}})


@pytest.mark.parametrize("version,reason", [
    ("3.3", "invalid config version (couldn't parse)"),
    ("v3.3.0", "invalid config version (couldn't parse)"),
    (" 3.3.0", "invalid config version (couldn't parse)"),
    ("", "invalid config version (couldn't parse)"),
    ("3.3.0+meta", "unsupported config version"),
    ("3.4.0-experimental", "unsupported config version"),
    ("3.7.0", "unsupported config version"),
    ("2.2.0", "unsupported config version"),
])
def test_version_errors(version: str, reason: str) -> None:
    raw = json.dumps({"ignition": {"version": version}, "storage": {"files": {}}}).encode()
    assert lines(raw) == [f"couldn't parse config: {reason}"]  # version problems mask everything else
    with pytest.raises(VersionError) as ei:
        detect_version(raw)
    assert ei.value.reason == reason and ei.value.exit_code == 1


def test_missing_version_and_empty_input() -> None:
    for raw in (b"{}", b"null", b'{"ignitionVersion":1}'):
        assert lines(raw) == ["couldn't parse config: invalid config version (couldn't parse)"]
    assert lines(b"") == ["couldn't parse config: not a config (empty)"]


def test_semver() -> None:
    assert str(parse_semver("3.7.0-experimental")) == "3.7.0-experimental"
    assert parse_semver("1.2") is None and parse_semver("1.2.3-") is None


def test_parse_config() -> None:
    raw = b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/a","user":null}]},"x":1}'
    config, spec = parse_config(raw)
    assert spec == "3.3.0"
    assert config == {"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "/a"}]}}
    with pytest.raises(InvalidConfig) as ei:
        parse_config(b"hello")
    assert str(ei.value) == "error at line 1 col 2: invalid character 'h' looking for beginning of value"
    with pytest.raises(InvalidConfig):
        parse_config(b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"mode":"420"}]}}')


# ---------------------------------------------------------------------------------------------
# Go encoding/json behaviours


def test_repeated_keys_merge_objects_and_last_scalar_wins() -> None:
    raw = (b'{"ignition":{"version":"3.0.0","version":"3.3.0"},"storage":{"files":[{"path":"/a"}]},'
           b'"storage":{"directories":[{"path":"/b"}]}}')
    config, spec = parse_config(raw)
    assert spec == "3.3.0"
    assert config["storage"] == {"files": [{"path": "/a"}], "directories": [{"path": "/b"}]}


def test_case_insensitive_keys_warn_as_unused() -> None:
    raw = b'{"Ignition":{"Version":"3.3.0"},"STORAGE":{"files":[{"path":"rel"}]}}'
    assert lines(raw) == [
        "error at $.storage.files.0.path, line 1 col 2: path not absolute",
        "warning at $.Ignition, line 1 col 2: unused key Ignition",
        "warning at $.STORAGE, line 1 col 33: unused key STORAGE",
    ]


@pytest.mark.parametrize("literal", ["420.0", "4.2e2", "1e3", "99999999999999999999", "-9223372036854775809"])
def test_integer_rules(literal: str) -> None:
    raw = b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/a","mode":' + literal.encode() + b"}]}}"
    col = 72 + len(literal) + 1
    assert lines(raw) == [f"error at line 1 col {col}: json: cannot unmarshal number {literal} into Go struct "
                          "field Config.storage.files.0.mode of type int"]


def test_int64_bounds_accepted_by_decoder() -> None:
    raw = b'{"ignition":{"version":"3.3.0"},"passwd":{"users":[{"name":"a","uid":9223372036854775807}]}}'
    assert lines(raw) == []


def test_type_errors() -> None:
    assert lines(b'{"ignition":{"version":"3.3.0"},"storage":{"files":{"path":"/a"}}}') == [
        "error at line 1 col 53: json: cannot unmarshal object into Go struct field Config.storage.files "
        "of type []types.File"]
    assert lines(b'{"ignition":{"version":3.3}}') == [
        "error at line 1 col 27: json: cannot unmarshal number into Go struct field "
        "versionStub.ignition.version of type string"]
    assert lines(b"[]") == ["error at line 1 col 2: json: cannot unmarshal array into Go value of type "
                            "util.versionStub"]
    assert lines(b'"3.3.0"') == ["error at line 0 col 0: json: cannot unmarshal string into Go value of type "
                                 "util.versionStub"]
    assert lines(b'{"ignition":{"version":"3.3.0"},"systemd":{"units":[{"name":"a.service","enabled":"yes"}]}}') \
        == ["error at line 1 col 88: json: cannot unmarshal string into Go struct field "
            "Config.systemd.units.0.enabled of type bool"]


@pytest.mark.parametrize("raw,expected", [
    (b"hello", "error at line 1 col 2: invalid character 'h' looking for beginning of value"),
    (b'{"ignition":{"version":"3.3.0"}', "error at line 0 col 0: unexpected end of JSON input"),
    (b"   ", "error at line 0 col 0: unexpected end of JSON input"),
    (b'{"ignition": {"version": "2.0.0"},}',
     "error at line 0 col 0: invalid character '}' looking for beginning of object key string"),
    (b'{"ignition":{"version":"3.3.0"}} {}', "error at line 1 col 35: invalid character '{' after top-level value"),
    (b'\xef\xbb\xbf{"ignition":{"version":"3.3.0"}}',
     "error at line 1 col 2: invalid character '\u00ef' looking for beginning of value"),
    (b'{"a":tru}', "error at line 0 col 0: invalid character '}' in literal true (expecting 'e')"),
    (b'{"a":"x\ty"}', "error at line 1 col 9: invalid character '\\t' in string literal"),
    (b'{"a":01}', "error at line 1 col 8: invalid character '1' after object key:value pair"),
    (b'{"a":1.}', "error at line 0 col 0: invalid character '}' after decimal point in numeric literal"),
    (b'{"a":NaN}', "error at line 1 col 7: invalid character 'N' looking for beginning of value"),
    (b'{"a" 1}', "error at line 1 col 7: invalid character '1' after object key"),
    (b'[1 2]', "error at line 1 col 5: invalid character '2' after array element"),
    (b'{"a":"\\x"}', "error at line 1 col 9: invalid character 'x' in string escape code"),
])
def test_syntax_errors_like_go(raw: bytes, expected: str) -> None:
    assert lines(raw) == [expected]


def test_syntax_error_scanner_accepts_valid_json() -> None:
    assert syntax_error(b' {"a": [1, -2.5e+3, true, false, null, "\\u00e9\\n"]} \n') is None


def test_invalid_utf8_is_replaced_not_rejected() -> None:
    raw = b'{"ignition":{"version":"3.3.0"},"passwd":{"users":[{"name":"\xff\xfe"}]}}'
    config, _ = parse_config(raw)
    assert config["passwd"]["users"][0]["name"] == "\ufffd\ufffd"


def test_null_members_are_absent_and_context_tree_warning() -> None:
    raw = b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":null,"user":null}]}}'
    assert lines(raw) == [
        "error at $.storage.files.0.path, line 1 col 61: path not specified",
        "warning at $.storage.files.0.user, line 1 col 73: context tree does not match content tree at "
        "$.storage.files.0.user. Line and column reporting may be inconsistent. Unused keys may not be reported",
    ]


def test_positions_are_byte_columns_across_lines() -> None:
    raw = '{\n\t"ignition": {"version": "3.3.0"},\n\t"storage": {"files": [{"x": "é", "path": "a"}]}\n}'
    assert lines(raw) == [
        "error at $.storage.files.0.path, line 3 col 44: path not absolute",
        "warning at $.storage.files.0.x, line 3 col 25: unused key x",
    ]
    tree = PosTree(raw.encode())
    assert tree.line_col(tree.value_offset(("storage", "files", 0, "path"))) == (3, 44)


# ---------------------------------------------------------------------------------------------
# Rules across versions (a few boundaries; the corpus test covers the rest)


def test_version_specific_rules() -> None:
    special = {"storage": {"files": [{"path": "/a", "mode": 0o4755}]}}
    w = "setuid/setgid/sticky bits are not supported or functional in spec versions older than 3.6.0"
    assert lines(cfg("3.5.0", **special)) == [f"warning at $.storage.files.0.mode, line 1 col 73: {w}"]
    assert lines(cfg("3.6.0", **special)) == []
    arn = {"storage": {"files": [{"path": "/a", "contents": {"source": "arn:aws:s3:::bucket/key"}}]}}
    assert lines(cfg("3.3.0", **arn))[0].endswith("invalid url scheme")
    assert lines(cfg("3.4.0", **arn)) == []
    virtiofs = {"storage": {"filesystems": [{"device": "tag", "format": "virtiofs", "path": "/mnt"}]}}
    assert lines(cfg("3.7.0-experimental", **virtiofs)) == []
    assert "invalid filesystem format" in lines(cfg("3.6.0", **virtiofs))[-1]
    link = {"storage": {"links": [{"path": "/l"}]}}
    assert lines(cfg("3.2.0", **link)) == []
    assert lines(cfg("3.3.0", **link)) == ["error at $.storage.links.0.target, line 1 col 54: link target is required"]
    sha256 = {"storage": {"files": [{"path": "/a", "contents": {"source": "data:,x",
                                                                "verification": {"hash": "sha256-" + "0" * 64}}}]}}
    assert lines(cfg("3.1.0", **sha256)) == []
    assert lines(cfg("3.0.0", **sha256))[0].endswith("unrecognized hash function")


def test_hash_digest_length_counts_bytes_like_go() -> None:
    # Ignition checks len(digest) in bytes and never looks at the digits: 64 two-byte characters pass
    # as a sha512 digest (Debian's ignition-validate accepts this config), 128 of them do not.
    def files(digest: str) -> dict[str, Any]:
        return {"files": [{"path": "/a", "contents": {"source": "data:,x",
                                                      "verification": {"hash": "sha512-" + digest}}}]}

    assert lines(cfg(storage=files("\u00e9" * 64))) == []
    assert lines(cfg(storage=files("\u00e9" * 128)))[0].endswith("incorrect size for hash sum")
    assert lines(cfg(storage=files("z" * 128))) == []


def test_units_and_dropins() -> None:
    units = {"systemd": {"units": [
        {"name": "a.service", "enabled": True, "contents": "[Unit]\nDescription=a\n"},
        {"name": "b.timer", "contents": "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n",
         "dropins": [{"name": "x.txt", "contents": "[Timer"}]},
        {"name": "noext"},
    ]}}
    got = lines(cfg(**units))
    assert 'warning at $.systemd.units.0.contents, line 1 col 99: unit "a.service" is enabled, but has no ' \
           "install section so enable does nothing" in got
    assert any("units.1.dropins.0.name" in g and "drop-in extension" in g for g in got)
    assert any("units.2.name" in g and "unit extension" in g for g in got)


def test_duplicates_share_handles() -> None:
    raw = cfg(storage={"directories": [{"path": "/a"}], "files": [{"path": "/a"}], "links": [
        {"path": "/a", "target": "/x"}]})
    assert [x.split(",")[0] for x in lines(raw)] == ["error at $.storage.files.0", "error at $.storage.links.0"]


# ---------------------------------------------------------------------------------------------
# CLI


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "ignkit", "validate", *args], input=stdin,
                          capture_output=True, timeout=60)


def test_cli_exit_statuses_and_output(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ign"
    bad.write_bytes(cfg(storage={"files": [{"path": "relative"}]}))
    warn = tmp_path / "warn.ign"
    warn.write_bytes(cfg(foo=1))
    good = tmp_path / "good.ign"
    good.write_bytes(cfg())
    before = bad.read_bytes()

    p = run_cli(str(bad))
    assert p.returncode == 1
    assert p.stdout.decode() == "error at $.storage.files.0.path, line 1 col 61: path not absolute\n"
    assert bad.read_bytes() == before

    p = run_cli(str(warn))
    assert p.returncode == 0 and p.stdout.decode() == "warning at $.foo, line 1 col 33: unused key foo\n"
    assert run_cli("--strict", str(warn)).returncode == 1
    assert run_cli("--strict", str(good)).returncode == 0

    p = run_cli(str(good), str(bad), "-", stdin=cfg(bar=2))
    assert p.returncode == 1
    assert p.stdout.decode().splitlines() == [
        f"{bad}: error at $.storage.files.0.path, line 1 col 61: path not absolute",
        "-: warning at $.bar, line 1 col 33: unused key bar",
    ]


def test_cli_parse_errors_go_to_stderr(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ign"
    empty.write_bytes(b"")
    p = run_cli(str(empty))
    assert p.returncode == 1 and p.stdout == b""
    assert p.stderr.decode() == "couldn't parse config: not a config (empty)\n"
    p = run_cli("-", stdin=b'{"ignition":{"version":"9.9.9"}}')
    assert p.returncode == 1 and p.stderr.decode() == "couldn't parse config: unsupported config version\n"
    missing = tmp_path / "missing.ign"
    p = run_cli(str(missing))
    assert p.returncode == 2 and p.stdout == b""
    assert p.stderr.decode() == f"ignkit: error: couldn't read config: {missing}: No such file or directory\n"
    p = run_cli(str(tmp_path))
    assert p.returncode == 2
    assert p.stderr.decode() == f"ignkit: error: couldn't read config: {tmp_path}: Is a directory\n"
    garbage = tmp_path / "garbage.ign"
    garbage.write_bytes(bytes(range(256)))
    p = run_cli(str(garbage))
    assert p.returncode == 1 and p.stderr == b""
    assert p.stdout.decode() == "error at line 1 col 2: invalid character '\\x00' looking for beginning of value\n"
    p = run_cli("-", stdin=b"")
    assert p.returncode == 1 and p.stderr.decode() == "couldn't parse config: not a config (empty)\n"
    p = subprocess.run([sys.executable, "-m", "ignkit", "validate", "-"], capture_output=True, timeout=60,
                       preexec_fn=lambda: os.close(0))
    assert p.returncode == 2
    assert p.stderr.decode() == "ignkit: error: couldn't read config: -: standard input is closed\n"


def test_cli_several_files_some_unreadable(tmp_path: Path) -> None:
    good = tmp_path / "good.ign"
    good.write_bytes(cfg())
    bad = tmp_path / "bad.ign"
    bad.write_bytes(cfg(storage={"files": [{"path": "relative"}]}))
    missing = tmp_path / "missing.ign"
    p = run_cli(str(good), str(missing), str(bad), str(tmp_path))
    assert p.returncode == 2  # unreadable input outranks invalid configs; every readable file is still checked
    assert p.stdout.decode() == f"{bad}: error at $.storage.files.0.path, line 1 col 61: path not absolute\n"
    assert p.stderr.decode().splitlines() == [
        f"ignkit: error: couldn't read config: {missing}: No such file or directory",
        f"ignkit: error: couldn't read config: {tmp_path}: Is a directory",
    ]
    p = run_cli("--json", str(good), str(missing), str(bad))
    assert p.returncode == 2 and p.stderr == b""
    docs = json.loads(p.stdout)
    assert [(d["file"], d["ok"], d["version"]) for d in docs] == [
        (str(good), True, "3.3.0"), (str(missing), False, None), (str(bad), False, "3.3.0")]
    assert docs[1]["read_error"] == "No such file or directory" and docs[1]["entries"] == []
    assert [e["message"] for e in docs[2]["entries"]] == ["path not absolute"]
    assert [list(d)[0] for d in docs] == ["file"] * 3


def test_cli_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ign"
    bad.write_bytes(cfg(storage={"files": [{"path": "relative"}]}))
    p = run_cli("--json", str(bad))
    assert p.returncode == 1
    doc = json.loads(p.stdout)
    assert doc["file"] == str(bad) and doc["version"] == "3.3.0" and doc["ok"] is False
    assert doc["entries"] == [{"kind": "error", "path": "$.storage.files.0.path", "line": 1, "column": 61,
                               "message": "path not absolute",
                               "text": "error at $.storage.files.0.path, line 1 col 61: path not absolute"}]
    p = run_cli("--json", str(bad), "-", stdin=b"")
    docs = json.loads(p.stdout)
    assert [d["file"] for d in docs] == [str(bad), "-"]
    assert docs[1]["entries"][0]["message"] == "not a config (empty)"


def test_cli_help_mentions_prefix() -> None:
    p = subprocess.run([sys.executable, "-m", "ignkit", "validate", "--help"], capture_output=True, timeout=60)
    assert p.returncode == 0 and b"prefixed with the file name" in p.stdout


def test_repeated_arrays_reuse_go_backing_array() -> None:
    # Go decodes a repeated array into the slice it holds: [A,B] then [C] then [D,E] gives [A+C+D, B+E].
    raw = (b'{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/a","mode":420},{"path":"/b"}],'
           b'"files":[{"overwrite":true}],"files":[{"mode":1},{"mode":2}]}}')
    config, _ = parse_config(raw)
    assert config["storage"]["files"] == [{"path": "/a", "mode": 1, "overwrite": True}, {"path": "/b", "mode": 2}]
    assert lines(raw) == ["error at $.storage.files.0.overwrite, line 1 col 132: overwrite must be false if "
                          "source is unspecified"]


def test_deep_nesting_follows_go_limit() -> None:
    ok = b'{"ignition":{"version":"3.3.0"},"x":' + b"[" * 9999 + b"]" * 9999 + b"}"
    assert lines(ok) == ["warning at $.x, line 1 col 33: unused key x"]
    deep = b'{"ignition":{"version":"3.3.0"},"x":' + b"[" * 20000 + b"]" * 20000 + b"}"
    assert lines(deep) == ["error at line 1 col 10037: invalid character '[' exceeded max depth"]


def test_unit_file_lexer() -> None:
    from ignkit.gocompat.unitfile import UnitParseError, parse_unit

    opts = parse_unit("junk [Unit]\nA = b \\\n  c\n# x \\\n[Install]\nWantedBy=multi-user.target\n")
    # the comment continues on the next line and swallows "[Install]"
    assert [(sec, name) for sec, name, _ in opts] == [("Unit", "A"), ("Unit", "WantedBy")]
    assert opts[0][2].startswith("b") and opts[0][2].endswith("c")
    for text, message in [("[Unit", "unable to find end of section"),
                          ("[Unit] x\n", 'found garbage after section name : "x"'),
                          ("[Unit]\nA\nB=c", "unexpected newline encountered while parsing option name"),
                          ("[Unit]\nA", "EOF"),
                          ("[Unit]\nA=" + "x" * 2046, "line too long (max 2048 bytes)")]:
        with pytest.raises(UnitParseError) as ei:
            parse_unit(text)
        assert str(ei.value) == message
    assert parse_unit("[Unit]\nA=" + "x" * 2045) == [("Unit", "A", "x" * 2045)]
