"""ignkit.ignition.resolve.resolve: fetching and flattening merge/replace references like Ignition's render."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import urllib.parse

import pytest
from werkzeug.wrappers import Response

from ignkit.errors import DigestMismatch, FetchError, IgnkitError, InputError, InvalidConfig, UsageError
from ignkit.ignition.resolve import ConfigSource, merge_configs, resolve


def cfg(version: str = "3.3.0", **sections) -> dict:
    out: dict = {"ignition": {"version": version}}
    out.update(sections)
    return out


def raw(config: dict) -> bytes:
    return json.dumps(config).encode()


def files(*paths: str) -> dict:
    return {"files": [{"path": p} for p in paths]}


def with_merge(config: dict, *refs: dict) -> dict:
    config["ignition"].setdefault("config", {})["merge"] = list(refs)
    return config


def data_url(config: dict, b64: bool = False) -> str:
    if b64:
        return "data:application/json;base64," + base64.b64encode(raw(config)).decode()
    return "data:," + urllib.parse.quote(json.dumps(config), safe="")


def sha512(data: bytes) -> str:
    return "sha512-" + hashlib.sha512(data).hexdigest()


def paths(result: dict) -> list:
    return [f["path"] for f in result.get("storage", {}).get("files", [])]


def test_no_references_is_translated_copy():
    out = resolve(raw(cfg("3.1.0", storage=files("/a"))))
    assert out == {"ignition": {"version": "3.1.0"}, "storage": {"files": [{"path": "/a"}]}}


def test_dict_input_and_spec_override():
    parent = with_merge(cfg("3.0.0", storage=files("/a")), {"source": data_url(cfg("3.1.0", storage=files("/b")))})
    out = resolve(parent, spec="3.6.0")
    assert out["ignition"] == {"version": "3.6.0"} and paths(out) == ["/a", "/b"]
    assert resolve(parent)["ignition"]["version"] == "3.1.0"  # newest among the configs involved
    with pytest.raises(UsageError, match="down"):
        resolve(parent, spec="3.0.0")


def test_base64_data_url_and_verification_hash():
    child = cfg(storage=files("/b"))
    body = raw(child)
    ok = {"source": "data:;base64," + base64.b64encode(body).decode(), "verification": {"hash": sha512(body)}}
    assert paths(resolve(with_merge(cfg(storage=files("/a")), ok))) == ["/a", "/b"]
    bad = dict(ok, verification={"hash": "sha256-" + "0" * 64})
    with pytest.raises(DigestMismatch, match="hash verification failed"):
        resolve(with_merge(cfg(), bad))


def test_gzip_compressed_reference_hash_is_of_decompressed_config():
    child = raw(cfg(storage=files("/z")))
    ref = {"source": "data:;base64," + base64.b64encode(gzip.compress(child)).decode(), "compression": "gzip",
           "verification": {"hash": "sha256-" + hashlib.sha256(child).hexdigest()}}
    assert paths(resolve(with_merge(cfg(), ref))) == ["/z"]


def test_http_children_with_headers_and_hash(httpserver):
    c1 = raw(cfg(storage=files("/one")))
    c2 = raw(cfg("3.4.0", storage=files("/two"), systemd={"units": [{"name": "x.service", "mask": True}]}))
    httpserver.expect_request("/c1.ign", headers={"X-Token": "s3cret"}).respond_with_data(c1)
    httpserver.expect_request("/c2.ign").respond_with_data(c2)
    parent = with_merge(cfg("3.3.0", storage=files("/p")),
                        {"source": httpserver.url_for("/c1.ign"),
                         "httpHeaders": [{"name": "X-Token", "value": "s3cret"}],
                         "verification": {"hash": sha512(c1)}},
                        {"source": httpserver.url_for("/c2.ign")})
    out = resolve(raw(parent))
    assert out["ignition"] == {"version": "3.4.0"}
    assert paths(out) == ["/p", "/one", "/two"]
    assert out["systemd"] == {"units": [{"name": "x.service", "mask": True}]}


def test_http_error_is_fetch_error(httpserver):
    httpserver.expect_request("/missing.ign").respond_with_response(Response("no", status=404))
    with pytest.raises(FetchError, match="404"):
        resolve(with_merge(cfg(), {"source": httpserver.url_for("/missing.ign")}))


def test_http_child_hash_mismatch(httpserver):
    httpserver.expect_request("/c.ign").respond_with_data(raw(cfg(storage=files("/evil"))))
    ref = {"source": httpserver.url_for("/c.ign"), "verification": {"hash": sha512(b"something else")}}
    with pytest.raises(DigestMismatch):
        resolve(with_merge(cfg(), ref))


def test_network_config_cannot_reference_local_files(httpserver, tmp_path):
    (tmp_path / "secret.ign").write_bytes(raw(cfg(storage=files("/secret"))))
    remote = with_merge(cfg(), {"source": f"file://{tmp_path}/secret.ign"})
    httpserver.expect_request("/r.ign").respond_with_data(raw(remote))
    with pytest.raises(InputError, match="cannot reference local files"):
        resolve(with_merge(cfg(), {"source": httpserver.url_for("/r.ign")}))


def test_local_files_relative_to_the_referencing_file(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "grandchild.ign").write_bytes(raw(cfg(storage=files("/g"))))
    (sub / "child.ign").write_bytes(raw(with_merge(cfg(storage=files("/c")), {"source": "grandchild.ign"})))
    parent = with_merge(cfg(storage=files("/p")), {"source": "sub/child.ign"},
                        {"source": "file://" + urllib.parse.quote(str(tmp_path / "abs.ign"))})
    (tmp_path / "abs.ign").write_bytes(raw(cfg(storage=files("/abs"))))
    out = resolve(raw(parent), base_dir=str(tmp_path))
    assert paths(out) == ["/p", "/c", "/g", "/abs"]
    with pytest.raises(InputError, match="No such file"):
        resolve(raw(parent), base_dir=str(sub))


def test_replace_discards_config_and_its_merges():
    replacement = with_merge(cfg(storage=files("/r")), {"source": data_url(cfg(storage=files("/rr")))})
    parent = cfg(storage=files("/p"))
    parent["ignition"]["config"] = {"replace": {"source": data_url(replacement, b64=True)},
                                    "merge": [{"source": data_url(cfg(storage=files("/ignored")))}]}
    assert paths(resolve(parent)) == ["/r", "/rr"]


def test_nested_order_is_depth_first():
    gc = cfg(storage={"files": [{"path": "/f", "mode": 1}]})
    c1 = with_merge(cfg(storage={"files": [{"path": "/f", "mode": 2}]}), {"source": data_url(gc)})
    c2 = cfg(storage={"files": [{"path": "/f", "mode": 3}, {"path": "/g"}]})
    out = resolve(with_merge(cfg(storage={"files": [{"path": "/f", "mode": 0}]}),
                             {"source": data_url(c1)}, {"source": data_url(c2)}))
    # parent <- (c1 <- gc) <- c2 : the grandchild overrides c1, c2 overrides both
    assert out["storage"]["files"] == [{"path": "/f", "mode": 3}, {"path": "/g"}]
    out = resolve(with_merge(cfg(), {"source": data_url(c1)}))
    assert out["storage"]["files"] == [{"path": "/f", "mode": 1}]


def test_reference_loop_is_reported(tmp_path):
    (tmp_path / "loop.ign").write_bytes(raw(with_merge(cfg(), {"source": "loop.ign"})))
    (tmp_path / "a.ign").write_bytes(raw(with_merge(cfg(), {"source": "sub/../b.ign"})))
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.ign").write_bytes(raw(with_merge(cfg(), {"source": f"file://{tmp_path}/a.ign"})))
    with pytest.raises(InvalidConfig, match=r"-> merge\[0\] \(loop.ign\): reference loop \(.*/loop.ign is already"):
        resolve((tmp_path / "loop.ign").read_bytes(), base_dir=str(tmp_path))
    # a -> b -> a, spelled differently each time
    loop = r"\(sub/../b.ign\) -> merge\[0\] \(file://.*\): reference loop \(/.*/a.ign is"
    with pytest.raises(InvalidConfig, match=loop):
        resolve(with_merge(cfg(), {"source": "a.ign"}), base_dir=str(tmp_path))


def test_http_reference_loop_is_reported(httpserver):
    url = httpserver.url_for("/self.ign")
    httpserver.expect_request("/self.ign").respond_with_data(raw(with_merge(cfg(), {"source": url})))
    with pytest.raises(InvalidConfig, match=f"reference loop \\({url} is already"):
        resolve(with_merge(cfg(), {"source": url}))


def test_the_same_child_twice_is_no_loop(tmp_path):
    (tmp_path / "leaf.ign").write_bytes(raw(cfg(storage=files("/leaf"))))
    (tmp_path / "mid.ign").write_bytes(raw(with_merge(cfg(storage=files("/mid")), {"source": "leaf.ign"})))
    out = resolve(with_merge(cfg(), {"source": "mid.ign"}, {"source": "./leaf.ign"}), base_dir=str(tmp_path))
    assert paths(out) == ["/mid", "/leaf"]


def test_nesting_depth_is_bounded():
    def nested(levels: int) -> dict:
        config = cfg(storage=files("/deep"))
        for _ in range(levels):
            config = with_merge(cfg(), {"source": data_url(config, b64=True)})
        return config

    assert paths(resolve(nested(16))) == ["/deep"]
    with pytest.raises(InvalidConfig, match="references nested more than 16 deep"):
        resolve(nested(17))


@pytest.mark.parametrize("source", ["s3://bucket/key.ign", "tftp://host/c.ign", "gs://b/o"])
def test_unfetchable_schemes(source):
    with pytest.raises(FetchError, match="cannot fetch"):
        resolve(with_merge(cfg(), {"source": source}))


def test_custom_fetcher_gets_url_and_headers():
    seen = []

    def fetch(url, headers):
        seen.append((url, headers))
        return raw(cfg(storage=files("/s3")))

    ref = {"source": "http://unreachable.invalid/c.ign",
           "httpHeaders": [{"name": "A", "value": "1"}, {"name": "B"}]}
    assert paths(resolve(with_merge(cfg(), ref, {"source": "s3://bucket/c.ign"}), fetch=fetch)) == ["/s3"]
    assert seen == [("http://unreachable.invalid/c.ign", {"A": "1"}), ("s3://bucket/c.ign", {})]


@pytest.mark.parametrize("bad", [b"", b"not json", b'{"ignition":{"version":"2.2.0"}}', b"[1]",
                                 b'{"ignition":{"version":"3.9.0"}}'])
def test_bad_child_is_reported_with_its_name(bad):
    ref = {"source": "data:;base64," + base64.b64encode(bad).decode()}
    with pytest.raises(IgnkitError) as e:
        resolve(with_merge(cfg(), ref))
    assert "merge[0]" in str(e.value)


def test_merge_configs_keeps_references_without_resolve():
    ref = {"source": "https://example.com/c.ign"}
    p = with_merge(cfg("3.2.0", storage=files("/a")), ref)
    c = with_merge(cfg("3.3.0", storage=files("/b")), ref, {"source": "https://example.com/d.ign"})
    out = merge_configs(ConfigSource(raw(p), name="p"), raw(c))
    assert out["ignition"] == {"version": "3.3.0", "config": {"merge": [
        {"source": "https://example.com/c.ign"}, {"source": "https://example.com/d.ign"}]}}
    assert paths(out) == ["/a", "/b"]


# --- https with the config's own certificateAuthorities ------------------------------------------------------


def test_https_child_trusted_through_config_certificate_authorities(tls_server, tmp_path):
    server, ca_file = tls_server
    ca_pem = ca_file.read_bytes()
    server.expect_request("/tls.ign").respond_with_data(raw(cfg(storage=files("/tls"))))
    url = server.url_for("/tls.ign")
    assert url.startswith("https://")
    with pytest.raises(FetchError, match="certificate verification failed"):
        resolve(with_merge(cfg(), {"source": url}))
    ca_ref = {"source": "data:;base64," + base64.b64encode(ca_pem).decode(), "verification": {"hash": sha512(ca_pem)}}
    parent = with_merge(cfg(), {"source": url})
    parent["ignition"]["security"] = {"tls": {"certificateAuthorities": [ca_ref]}}
    out = resolve(parent)
    assert paths(out) == ["/tls"]
    assert out["ignition"]["security"]["tls"]["certificateAuthorities"] == [ca_ref]  # kept for the boot
    # the CA may also come from a local file given to the fetcher
    (tmp_path / "ca.pem").write_bytes(ca_pem)
    from ignkit.ignition.resolve import http_fetcher
    assert paths(resolve(with_merge(cfg(), {"source": url}), fetch=http_fetcher(ca_cert=str(tmp_path / "ca.pem")))) \
        == ["/tls"]


def test_warnings_of_inputs_and_children_are_collected():
    child = {"ignition": {"version": "3.3.0"}, "storage": {"filez": []}}
    parent = with_merge(cfg(storage=files("/a")), {"source": data_url(child)})
    parent["passwd"] = {"userz": []}
    warnings: list = []
    out = merge_configs(ConfigSource(raw(parent), name="top"), resolve=True, warnings=warnings)
    assert paths(out) == ["/a"] and out.get("passwd", {}) == {}  # unknown members are not carried over
    assert len(warnings) == 2
    assert warnings[0].startswith("top: warning at $.passwd.userz") and warnings[0].endswith("unused key userz")
    assert warnings[1].startswith("top -> merge[0] (data:,") and "unused key filez" in warnings[1]
