"""Deterministic media for the demo Akeneo: small valid PNG images and a one-page PDF, plus Akeneo-style codes.

Nothing is stored: a media code carries its kind and index in the file name, so the bytes are regenerated on
demand from (seed, kind, index). That keeps a 100k-product catalog's "GBs of media" at zero memory while every
code still looks like Akeneo's `7/5/8/e/<sha1>_<original_name>` and unknown codes are rejected (sha1 check).
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

# kind -> (original file name pattern, extension, mime type). The index is zero-padded to a fixed width.
KINDS: dict[str, tuple[str, str, str]] = {
    "product_image": ("SKU-{index:07d}-front.png", "png", "image/png"),
    "model_image": ("model-{index:07d}.png", "png", "image/png"),
    "product_manual": ("manual-{index:07d}.pdf", "pdf", "application/pdf"),
    "asset_image": ("packshot-{index:05d}.png", "png", "image/png"),
    "asset_guide": ("guide-{index:05d}.pdf", "pdf", "application/pdf"),
    "record_image": ("record-{index:05d}.png", "png", "image/png"),
    "entity_image": ("entity-{index:05d}.png", "png", "image/png"),
    "category_image": ("banner-{index:05d}.png", "png", "image/png"),  # enriched category image values
}

_STORED_NAME = re.compile(
    r"^(?P<sha>[0-9a-f]{40})_(?P<stem>SKU_\d+_front|model_\d+|manual_\d+|packshot_\d+|guide_\d+|record_\d+|entity_\d+|banner_\d+)\.(?P<ext>png|pdf)$"
)
_STEM_KIND = {
    "SKU": "product_image",
    "model": "model_image",
    "manual": "product_manual",
    "packshot": "asset_image",
    "guide": "asset_guide",
    "record": "record_image",
    "entity": "entity_image",
    "banner": "category_image",
}


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One generated file: what `GET /media-files/{code}` describes and `/download` serves."""

    code: str
    kind: str
    index: int
    original_filename: str
    mime_type: str
    extension: str


def _sha(seed: int, kind: str, index: int) -> str:
    return hashlib.sha1(f"{seed}:{kind}:{index}".encode(), usedforsecurity=False).hexdigest()


def media_code(seed: int, kind: str, index: int) -> str:
    """The Akeneo-style storage code of media (kind, index): `a/b/c/d/<sha1>_<sanitised original name>`."""
    pattern, _ext, _mime = KINDS[kind]
    original = pattern.format(index=index)
    sha = _sha(seed, kind, index)
    stored = re.sub(r"[^A-Za-z0-9.]", "_", original)
    return f"{sha[0]}/{sha[1]}/{sha[2]}/{sha[3]}/{sha}_{stored}"


def media_file(seed: int, kind: str, index: int) -> MediaFile:
    pattern, ext, mime = KINDS[kind]
    return MediaFile(
        code=media_code(seed, kind, index),
        kind=kind,
        index=index,
        original_filename=pattern.format(index=index),
        mime_type=mime,
        extension=ext,
    )


def parse_media_code(seed: int, code: str) -> MediaFile | None:
    """The media a code names, or None when the code was not issued by this catalog (wrong sha, bad shape)."""
    parts = code.split("/")
    if len(parts) != 5:
        return None
    match = _STORED_NAME.match(parts[4])
    if not match:
        return None
    stem = match["stem"]
    kind = _STEM_KIND[stem.split("_", 1)[0]]
    index = int(re.findall(r"\d+", stem)[0])
    media = media_file(seed, kind, index)
    return media if media.code == code else None


@lru_cache(maxsize=512)
def media_bytes(seed: int, kind: str, index: int) -> bytes:
    """The file content: a PNG for images, a PDF for documents. Cached because metadata needs the size too."""
    digest = hashlib.sha256(f"{seed}:{kind}:{index}".encode()).digest()
    if KINDS[kind][1] == "pdf":
        return make_pdf(f"Demo document {KINDS[kind][0].format(index=index)}")
    return make_png(digest)


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def make_png(digest: bytes) -> bytes:
    """A small RGB PNG (32-96 px) with a two-colour gradient and stripes picked from `digest`."""
    width = 32 + digest[0] % 65
    height = 32 + digest[1] % 65
    c1 = digest[2:5]
    c2 = digest[5:8]
    stripe = 3 + digest[8] % 9
    rows = []
    for y in range(height):
        t = y / max(1, height - 1)
        base = bytes(int(c1[k] * (1 - t) + c2[k] * t) for k in range(3))
        alt = bytes(255 - v for v in base)
        row = bytearray(b"\x00")  # filter type 0
        for x in range(width):
            row += alt if (x // stripe + y // stripe) % 4 == 0 else base
        rows.append(bytes(row))
    raw = b"".join(rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )


def make_pdf(text: str) -> bytes:
    """A minimal valid one-page PDF (correct xref offsets) showing `text`."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 720 Td ({safe}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
