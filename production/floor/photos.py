"""A photo from an operator's phone: size-limited, and an image Pillow can read (JPEG, PNG or WebP)."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def photo_checked(content: bytes, errors: dict[str, list[str]]) -> tuple[bytes, str] | None:
    """(content, file extension) of a valid photo; otherwise a message under "photo" in `errors`."""
    if len(content) > settings.FLOOR_PHOTO_MAX_BYTES:
        errors["photo"] = [
            _("The photo is too large (at most %(size)s kB).")
            % {"size": settings.FLOOR_PHOTO_MAX_BYTES // 1000}
        ]
        return None
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format or ""
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        errors["photo"] = [_("This is not a photo (JPEG, PNG or WebP).")]
        return None
    if kind not in FORMATS:
        errors["photo"] = [_("This is not a photo (JPEG, PNG or WebP).")]
        return None
    return content, FORMATS[kind]
