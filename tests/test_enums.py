"""Closed sets of words as enums: ignkit.enums.WordEnum, ImageKind, and the CSR review's kinds, states, verdicts."""

from __future__ import annotations

import json

import pytest
from test_csr import W0, review
from test_csr_support import client_item, csr_item, make_csr

from ignkit.csr import CsrState, RequestKind, Verdict, format_review_table
from ignkit.live.customize import CustomizeOptions, compose
from ignkit.live.features import OsFeatures
from ignkit.live.kinds import ImageKind


def test_a_word_enum_is_its_word_everywhere() -> None:
    k = ImageKind.PXE
    assert k == "pxe" and ImageKind("pxe") is k
    assert str(k) == "pxe" and f"{k}" == "pxe" and f"{k:>5}" == "  pxe" and "".join([k]) == "pxe"
    assert json.dumps({"kind": k}) == '{"kind": "pxe"}'
    with pytest.raises(ValueError):
        ImageKind("usb")


def test_compose_takes_the_kind_or_its_word() -> None:
    opts = CustomizeOptions(live_karg_append=["quiet"])
    assert compose(opts, OsFeatures(), target=ImageKind.ISO).live_kargs_append == ["quiet"]
    assert compose(opts, OsFeatures(), target="iso").live_kargs_append == ["quiet"]
    with pytest.raises(Exception, match="ISO images only"):
        compose(opts, OsFeatures(), target="pxe")
    with pytest.raises(ValueError):
        compose(opts, OsFeatures(), target="usb")


def test_csr_review_uses_enums_and_prints_words() -> None:
    r = review(client_item("good", W0), client_item("old", W0, state="Approved"),
               csr_item("odd", make_csr("x"), "someone", [], ["digital signature"], None))
    by_name = {d.name: d for d in r.decisions}
    assert by_name["good"].kind is RequestKind.CLIENT and by_name["good"].verdict is Verdict.APPROVE
    assert by_name["odd"].kind is RequestKind.OTHER and by_name["odd"].verdict is Verdict.REFUSE
    assert [s.state for s in r.settled] == [CsrState.APPROVED]
    doc = json.loads(json.dumps(r.to_dict()))
    assert {c["name"]: (c["kind"], c["decision"]) for c in doc["csrs"]} == {
        "good": ("client", "approve"), "odd": ("other", "refuse")}
    assert doc["settled"][0]["state"] == "approved"
    table = format_review_table(r)
    assert "good" in table and "client" in table and "RequestKind" not in table and "Verdict" not in table
