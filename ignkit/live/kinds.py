"""What a customization is made for: a live ISO or a PXE live initramfs."""

from __future__ import annotations

from ..enums import WordEnum

__all__ = ["ImageKind"]


class ImageKind(WordEnum):
    """The live media ``compose`` targets: an ISO (Ignition area, kernel-argument areas) or a PXE
    initramfs (an appended layer; kernel arguments belong to the boot config)."""

    ISO = "iso"
    PXE = "pxe"
