"""PDF rendering (WeasyPrint) with an embedded Korean-capable font."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

# Noto Sans CJK covers Hangul, Latin and CJK punctuation (「」). Debian: fonts-noto-cjk.
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)
FONT_FAMILY = "NotoSansCJK"


def font_path() -> Path | None:
    configured = getattr(settings, "NOTICE_PDF_FONT", "")
    for candidate in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def font_face_css() -> str:
    path = font_path()
    # Without the file, fontconfig's installed CJK family is the fallback.
    src = f'url("{path.as_uri()}")' if path else 'local("Noto Sans CJK KR")'
    bold = path.with_name(path.name.replace("Regular", "Bold")) if path else None
    css = f'@font-face {{ font-family: "{FONT_FAMILY}"; src: {src}; font-weight: normal; }}\n'
    if bold is not None and bold.is_file():
        css += f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("{bold.as_uri()}"); font-weight: bold; }}\n'
    return css


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    # WeasyPrint reports every layout step (and its import) at INFO; a batch run would drown in it.
    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from weasyprint import HTML

    html = render_to_string(
        template, {**context, "font_face_css": font_face_css(), "font_family": FONT_FAMILY}
    )
    # base_url None: the template never loads anything but the local font file.
    return bytes(HTML(string=html, base_url=None).write_pdf())
