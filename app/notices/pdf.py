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


def _allowed_files() -> tuple[set[Path], list[Path]]:
    """The exact font files, and the static folders, a PDF may load: nothing else on disk or online."""
    fonts: set[Path] = set()
    path = font_path()
    if path is not None:
        fonts.add(path.resolve())
        fonts.add(path.with_name(path.name.replace("Regular", "Bold")).resolve())
    # STATICFILES_DIRS entries are folders or (prefix, folder) pairs (the npm-installed ones).
    dirs = [d[1] if isinstance(d, tuple) else d for d in settings.STATICFILES_DIRS]
    folders = [Path(settings.STATIC_ROOT).resolve(), *(Path(d).resolve() for d in dirs)]
    return fonts, folders


def _url_fetcher() -> Any:
    """WeasyPrint's fetcher, narrowed: only the bundled font and static files, by file path.

    Its default fetches http(s), ftp and data addresses and any local file, and
    ``<link rel=attachment>`` embeds what it fetched into the PDF. Text in a notice is escaped, but
    a template slip must not turn a PDF into a way to read the server's files or reach the network.
    """
    from urllib.parse import unquote, urlsplit

    from weasyprint.urls import URLFetcher

    fonts, folders = _allowed_files()

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
                raise ValueError(
                    f"PDF resources are local files only, not {parts.scheme or 'relative'} addresses"
                )
            target = Path(unquote(parts.path)).resolve()
            if target not in fonts and not any(target.is_relative_to(folder) for folder in folders):
                raise ValueError("PDF resources are limited to the bundled font and static files")
            return super().fetch(target.as_uri(), headers)

    return StaticOnlyFetcher(allowed_protocols=("file",), allow_redirects=False)


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    # WeasyPrint reports every layout step (and its import) at INFO; a batch run would drown in it.
    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)
    html = render_to_string(
        template, {**context, "font_face_css": font_face_css(), "font_family": FONT_FAMILY}
    )
    return html_to_pdf(html)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    # base_url None: the templates never load anything but the local font file.
    return bytes(HTML(string=html, base_url=None, url_fetcher=_url_fetcher()).write_pdf())
