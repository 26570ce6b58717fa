"""Go's ``path`` package: ``path.Clean``."""

from __future__ import annotations

__all__ = ["clean_path"]


def clean_path(p: str) -> str:
    """Go's ``path.Clean`` (also for relative paths)."""
    if p == "":
        return "."
    rooted = p.startswith("/")
    parts: list[str] = []
    for seg in p.split("/"):
        if seg == "" or seg == ".":
            continue
        if seg == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(seg)
    s = "/".join(parts)
    if rooted:
        return "/" + s
    return s or "."
