"""ignkit.ignition.translate: upward translation between Ignition spec versions."""

from __future__ import annotations

import pytest

from ignkit.errors import InputError, UsageError
from ignkit.ignition.translate import LATEST, SPEC_VERSIONS, known_fields, newest, translate


def test_versions_in_order():
    assert SPEC_VERSIONS[0] == "3.0.0" and LATEST == "3.7.0-experimental"
    assert newest(["3.3.0", "3.0.0", "3.7.0-experimental", "3.6.0"]) == "3.7.0-experimental"
    assert newest(["3.2.0", "3.1.0"]) == "3.2.0"


@pytest.mark.parametrize("target", SPEC_VERSIONS)
def test_every_step_sets_version_and_copies(target):
    cfg = {"ignition": {"version": "3.0.0"}, "storage": {"files": [{"path": "/a", "mode": 420,
                                                                    "contents": {"source": "data:,x"}}]}}
    out = translate(cfg, target)
    assert out["ignition"]["version"] == target
    assert out["storage"] == cfg["storage"]
    assert cfg["ignition"]["version"] == "3.0.0"  # input untouched
    assert out["storage"] is not cfg["storage"]


def test_down_translation_refused():
    with pytest.raises(UsageError, match="down"):
        translate({"ignition": {"version": "3.4.0"}}, "3.2.0")


@pytest.mark.parametrize("version", ["3.4.0-experimental", "2.3.0", "3.3", None, 3])
def test_unsupported_source_version(version):
    with pytest.raises(InputError):
        translate({"ignition": {"version": version}}, LATEST)


def test_unknown_target_version():
    with pytest.raises(InputError):
        translate({"ignition": {"version": "3.0.0"}}, "9.9.9")


def test_fields_unknown_to_source_version_are_dropped():
    cfg = {"ignition": {"version": "3.2.0", "foo": 1},
           "kernelArguments": {"shouldExist": ["quiet"]},            # 3.3+
           "storage": {"luks": [{"name": "r", "device": "/dev/sda", "discard": True}],  # discard is 3.4+
                       "files": [{"path": "/a", "contents": {"source": "https://x/y",
                                                             "httpHeaders": [{"name": "A", "value": "b"}]}}]},
           "extra": {}}
    out = translate(cfg, "3.4.0")
    assert "kernelArguments" not in out and "extra" not in out and "foo" not in out["ignition"]
    assert out["storage"]["luks"] == [{"name": "r", "device": "/dev/sda"}]
    assert out["storage"]["files"][0]["contents"]["httpHeaders"] == [{"name": "A", "value": "b"}]
    # 3.0 references had no httpHeaders/compression; file contents had compression already
    cfg30 = {"ignition": {"version": "3.0.0", "config": {"merge": [{"source": "data:,", "compression": "gzip",
                                                                     "httpHeaders": []}]}},
             "storage": {"files": [{"path": "/a", "contents": {"source": "data:,", "compression": "gzip"}}]}}
    out = translate(cfg30, "3.1.0")
    assert out["ignition"]["config"]["merge"] == [{"source": "data:,"}]
    assert out["storage"]["files"][0]["contents"]["compression"] == "gzip"


def test_keys_match_case_insensitively_like_go():
    out = translate({"Ignition": {"Version": "3.3.0"}, "Storage": {"Files": [{"PATH": "/a"}]}}, "3.3.0")
    assert out == {"ignition": {"version": "3.3.0"}, "storage": {"files": [{"path": "/a"}]}}


def test_special_mode_bits_masked_from_pre_3_6():
    cfg = {"ignition": {"version": "3.3.0"},
           "storage": {"files": [{"path": "/a", "mode": 0o4755}], "directories": [{"path": "/d", "mode": 0o1777}]}}
    assert translate(cfg, "3.5.0")["storage"]["files"][0]["mode"] == 0o4755
    out = translate(cfg, "3.6.0")
    assert out["storage"]["files"][0]["mode"] == 0o755
    assert out["storage"]["directories"][0]["mode"] == 0o777
    # a 3.6 config keeps its bits
    cfg["ignition"]["version"] = "3.6.0"
    assert translate(cfg, LATEST)["storage"]["files"][0]["mode"] == 0o4755


def test_3_2_to_3_3_pointer_changes():
    cfg = {"ignition": {"version": "3.2.0"},
           "storage": {"raid": [{"name": "md0", "devices": ["/dev/sda"]}],
                       "links": [{"path": "/l", "target": "/t"}, {"path": "/m"}],
                       "luks": [{"name": "a", "device": "/dev/sdb", "clevis": {"custom": {"pin": "tpm2"}}},
                                {"name": "b", "device": "/dev/sdc", "clevis": {"tpm2": True}}]}}
    out = translate(cfg, "3.3.0")
    assert out["storage"]["raid"][0]["level"] == ""
    assert out["storage"]["links"] == [{"path": "/l", "target": "/t"}, {"path": "/m", "target": ""}]
    assert out["storage"]["luks"][0]["clevis"]["custom"] == {"pin": "tpm2", "config": ""}
    assert "custom" not in out["storage"]["luks"][1]["clevis"]
    # no change when staying at 3.2
    assert "level" not in translate(cfg, "3.2.0")["storage"]["raid"][0]


def test_known_fields_grow():
    assert "kernelArguments" not in known_fields("3.2.0") and "kernelArguments" in known_fields("3.3.0")
    assert "proxy" not in known_fields("3.0.0")["ignition"]
    luks = known_fields("3.5.0")["storage"]["luks"][0]
    assert "cex" in luks and "cex" not in known_fields("3.4.0")["storage"]["luks"][0]
