"""The CJK font of the travellers: Noto Sans SC from the npm package the web pages use, made a TTF once.

@fontsource/noto-sans-sc ships each weight as web fonts only (WOFF/WOFF2, split by unicode range); its
"chinese-simplified" subset holds the ~8,000 common simplified characters plus ASCII in one file. A PDF
embeds TrueType, so the WOFF (zlib: fontTools needs no extra codec for it) is unwrapped to a TTF under
VAR_DIR on first use and reused after that. No font file lives in the repository.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # fontTools ships no types

PACKAGE = "@fontsource/noto-sans-sc"
FAMILY = "NotoSansSC"
# fpdf2 style ("" regular, "B" bold) -> the package's weight.
WEIGHTS = {"": 400, "B": 700}

_lock = threading.Lock()


def source_path(weight: int) -> Path:
    return (
        Path(settings.NODE_MODULES)
        / PACKAGE
        / "files"
        / f"noto-sans-sc-chinese-simplified-{weight}-normal.woff"
    )


def font_path(weight: int) -> Path:
    """The TTF of one weight, made from the npm package's WOFF the first time it is asked for."""
    target = Path(settings.VAR_DIR) / "fonts" / f"noto-sans-sc-chinese-simplified-{weight}.ttf"
    if target.exists():
        return target
    source = source_path(weight)
    if not source.exists():
        raise ImproperlyConfigured(
            f"{source} is missing: the travellers' Chinese font comes from the npm package {PACKAGE} "
            "(run `npm ci`, as `make run` does)."
        )
    with _lock:
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            font = TTFont(str(source))
            font.flavor = None  # WOFF -> plain TrueType
            # Written aside and renamed: another process reading the cache never sees half a file.
            handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".ttf.part")
            os.close(handle)
            try:
                font.save(temporary)
                os.replace(temporary, target)
            finally:
                if os.path.exists(temporary):
                    os.unlink(temporary)
    return target


def font_files() -> dict[str, Path]:
    """fpdf2 style -> TTF path, for every style the travellers use."""
    return {style: font_path(weight) for style, weight in WEIGHTS.items()}
