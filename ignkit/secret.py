"""The Ignition config held in a Kubernetes Secret (``worker-user-data-managed``'s ``userData``).

Accepts what ``oc get secret worker-user-data-managed -n openshift-machine-api -o json`` (or ``-o yaml``)
prints, a one-item ``List`` of it, the raw file ``oc extract`` writes, or the bare base64 text of
``-o jsonpath='{.data.userData}'``, and returns the config bytes exactly as stored.
"""

from __future__ import annotations

import base64
import binascii

from .errors import InputError
from .yamlfile import load_json_or_yaml

#: The Secret key that holds the config.
USER_DATA_KEY = "userData"


def _b64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{where} is not valid base64") from None


def user_data_from_secret(data: bytes, *, key: str = USER_DATA_KEY, source: str = "input") -> bytes:
    """Return the decoded ``key`` (default ``userData``) of a Secret, or the config itself if given one.

    Raises :class:`InputError` with one line when ``data`` is none of the accepted forms.
    """
    stripped = data.strip()
    if not stripped:
        raise InputError(f"{source}: empty input")
    doc = load_json_or_yaml(data, source)
    if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        items = doc["items"]
        if len(items) != 1:
            raise InputError(f"{source}: a List of {len(items)} objects; give one Secret")
        doc = items[0]
    if isinstance(doc, dict):
        if "ignition" in doc and "kind" not in doc:
            return data  # already the config (the file `oc extract` writes)
        kind = doc.get("kind")
        if kind is not None and kind != "Secret":
            raise InputError(f"{source}: a {kind}, not a Secret")
        sdata = doc.get("data") or {}
        string_data = doc.get("stringData") or {}
        if not isinstance(sdata, dict) or not isinstance(string_data, dict):
            raise InputError(f"{source}: malformed Secret (data is not a mapping)")
        if key in sdata:
            if not isinstance(sdata[key], str):
                raise InputError(f"{source}: data.{key} is not a base64 string")
            return _b64(sdata[key], f"{source}: data.{key}")
        if key in string_data:
            value = string_data[key]
            if not isinstance(value, str):
                raise InputError(f"{source}: stringData.{key} is not a string")
            return value.encode()
        if kind == "Secret" or "data" in doc:
            have = ", ".join(sorted(set(sdata) | set(string_data))) or "none"
            raise InputError(f"{source}: the Secret has no {key} (keys: {have})")
        raise InputError(f"{source}: neither a Secret nor an Ignition config")
    # Bare base64 (oc get secret ... -o jsonpath='{.data.userData}').
    if isinstance(doc, str) or doc is None:
        try:
            decoded = base64.b64decode(b"".join(stripped.split()), validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if decoded.lstrip().startswith(b"{"):
            return decoded
    raise InputError(f"{source}: neither a Secret nor an Ignition config")
