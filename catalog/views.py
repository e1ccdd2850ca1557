"""Serving imported media files to the admin's users.

The bytes and the content type come from Akeneo, which is not trusted: an HTML or SVG file served inline from
the admin's origin would run its scripts with the viewer's session. So a file is shown inline only when its
first bytes are those of a safe raster image (whatever type Akeneo claimed), and every answer is
`nosniff` and sandboxed; anything else is a download.
"""

from __future__ import annotations

import posixpath
import re

from django.core.exceptions import PermissionDenied, SuspiciousFileOperation
from django.http import FileResponse, Http404, HttpRequest

from catalog.models import MediaFile

VIEW_PERMISSION = "catalog.view_mediafile"
SNIFF_BYTES = 16
SANDBOX_CSP = "sandbox; default-src 'none'"
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")  # raster: no script can run in them
UNSAFE_FILENAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._ -]+")


def sniff_raster_type(head: bytes) -> str | None:
    """The image type the file's first bytes prove (PNG, JPEG, GIF, WebP), else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def download_name(media: MediaFile) -> str:
    """The original file name from the media code (`a/b/c/d/<sha1>_<name>`), reduced to harmless characters."""
    name = posixpath.basename(media.code.replace("\\", "/"))
    _, separator, original = name.partition("_")
    name = original if separator and original else name
    return UNSAFE_FILENAME_CHARACTERS.sub("_", name).strip(" .") or f"media-{media.pk}"


def media_file_response(media: MediaFile) -> FileResponse:
    """The stored file: inline if it is a proven raster image, else as an attachment; never sniffable, sandboxed."""
    if not media.file:
        raise Http404("This media file was not downloaded.")
    try:
        handle = media.file.storage.open(media.file.name, "rb")
    except (OSError, SuspiciousFileOperation):
        raise Http404("This media file is missing from storage.") from None
    try:
        raster_type = sniff_raster_type(handle.read(SNIFF_BYTES))
        handle.seek(0)
    except Exception:
        handle.close()
        raise
    response = FileResponse(
        handle,
        as_attachment=raster_type is None,
        filename=download_name(media),
        content_type=raster_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


def download_media(request: HttpRequest, pk: int) -> FileResponse:
    """An imported media file, for logged-in staff (the admin wraps this view) with the media view permission."""
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    try:
        media = MediaFile.objects.get(pk=pk)
    except MediaFile.DoesNotExist:
        raise Http404("No such media file.") from None
    return media_file_response(media)
