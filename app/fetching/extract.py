"""Find every image and video a web page shows (framework-free).

Only links are collected here; nothing is fetched. Every URL found goes back through
``app.lib.http.fetch``, which checks it again, so a hostile page cannot use this list to reach
anything the fetcher would refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["MediaLink", "extract_media_links", "looks_like_html", "page_title"]

IMAGE_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "jpe", "jfif", "pjpeg", "png", "gif", "webp", "avif", "heic", "heif", "bmp",
     "tif", "tiff"}
)  # fmt: skip
VIDEO_EXTENSIONS = frozenset({"mp4", "m4v", "mov", "webm", "mkv", "3gp", "ogv", "avi", "gifv"})

# Lazy-loading scripts keep the real address in one of these until the image scrolls into view.
_LAZY_SRC = ("data-src", "data-original", "data-lazy-src", "data-url", "data-full-src")
_LAZY_SRCSET = ("data-srcset", "data-lazy-srcset")

_META_IMAGE = frozenset(
    {"og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"}
)
_META_VIDEO = frozenset({"og:video", "og:video:url", "og:video:secure_url", "twitter:player:stream"})
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s][^)]*?))\s*\)""", re.IGNORECASE)
_MAX_STYLE = 4096
_SKIPPED_SCHEMES = ("data:", "javascript:", "blob:", "about:", "mailto:", "tel:", "file:")


@dataclass(frozen=True)
class MediaLink:
    url: str
    kind_hint: str  # "image" | "video" | "unknown"
    source: str  # "img", "srcset", "picture", "og:image", "og:video", "video", "video-source",
    # "video-poster", "background-image", "a-href", "link-image_src"


_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<!--")
_HTML_TAGS = (b"<img", b"<div", b"<a ", b"<meta", b"<p>", b"<title", b"<script", b"<video")


def looks_like_html(data: bytes) -> bool:
    """Whether a body is markup, by its first bytes (Content-Type is not trusted)."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(_HTML_STARTS):
        return True
    return head.startswith(b"<") and any(tag in data[:8192].lower() for tag in _HTML_TAGS)


def _extension(url: str) -> str:
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    if "." not in name:
        return ""
    return name.rsplit(".", 1)[-1].lower()


def _kind_from_extension(url: str) -> str | None:
    ext = _extension(url)
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    return None


def _largest_srcset_candidate(srcset: str) -> str | None:
    """The candidate with the largest width (or density) descriptor, per the HTML parsing rules."""
    best: tuple[int, float, str] | None = None  # (has width descriptor, value, url)
    position = 0
    length = len(srcset)
    while position < length:
        while position < length and (srcset[position].isspace() or srcset[position] == ","):
            position += 1
        if position >= length:
            break
        start = position
        while position < length and not srcset[position].isspace():
            position += 1
        url = srcset[start:position]
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            # Descriptors run to the next comma outside parentheses.
            start = position
            depth = 0
            while position < length:
                ch = srcset[position]
                if ch == "(":
                    depth += 1
                elif ch == ")":
                    depth = max(depth - 1, 0)
                elif ch == "," and depth == 0:
                    break
                position += 1
            descriptor = srcset[start:position].strip().lower()
        if not url:
            continue
        has_width, value = 0, 1.0
        for token in descriptor.split():
            try:
                if token.endswith("w"):
                    has_width, value = 1, float(token[:-1])
                elif token.endswith("x"):
                    value = float(token[:-1])
            except ValueError:
                continue
        key = (has_width, value, url)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


class _Collector:
    def __init__(self, base_url: str, max_items: int) -> None:
        self.base_url = base_url
        self.max_items = max_items
        self.items: list[MediaLink] = []
        self._seen: set[str] = set()

    @property
    def full(self) -> bool:
        return len(self.items) >= self.max_items

    def add(self, raw: str | None, kind_hint: str, source: str) -> None:
        if raw is None or self.full:
            return
        text = raw.strip()
        if not text or text.lower().startswith(_SKIPPED_SCHEMES) or text.startswith("#"):
            return
        try:
            absolute = urljoin(self.base_url, text)
            parts = urlsplit(absolute)
        except ValueError:
            return
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            return
        url = urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, ""))
        if url in self._seen:
            return
        self._seen.add(url)
        self.items.append(MediaLink(url=url, kind_hint=kind_hint, source=source))


def _base_url(tree: LexborHTMLParser, page_url: str) -> str:
    base = tree.css_first("base[href]")
    if base is None:
        return page_url
    href = (base.attributes.get("href") or "").strip()
    if not href:
        return page_url
    try:
        resolved = urljoin(page_url, href)
    except ValueError:
        return page_url
    if urlsplit(resolved).scheme.lower() not in ("http", "https"):
        return page_url
    return resolved


def _inside_video(node: LexborNode) -> bool:
    parent = node.parent
    return parent is not None and parent.tag == "video"


def _visit(node: LexborNode, out: _Collector) -> None:
    tag = node.tag
    attrs = node.attributes
    if tag == "img":
        for name in (*_LAZY_SRCSET, "srcset"):
            value = attrs.get(name)
            if value:
                out.add(_largest_srcset_candidate(value), "image", "srcset")
        for name in (*_LAZY_SRC, "src"):
            out.add(attrs.get(name), "image", "img")
    elif tag == "source":
        if _inside_video(node):
            out.add(attrs.get("src"), "video", "video-source")
        else:  # <picture><source srcset>
            for name in ("srcset", *_LAZY_SRCSET):
                value = attrs.get(name)
                if value:
                    out.add(_largest_srcset_candidate(value), "image", "picture")
    elif tag == "video":
        out.add(attrs.get("src"), "video", "video")
        out.add(attrs.get("poster"), "image", "video-poster")
    elif tag == "meta":
        key = (attrs.get("property") or attrs.get("name") or "").strip().lower()
        if key in _META_IMAGE:
            out.add(attrs.get("content"), "image", "og:image" if key.startswith("og:") else key)
        elif key in _META_VIDEO:
            out.add(attrs.get("content"), "video", "og:video")
    elif tag == "link":
        rel = (attrs.get("rel") or "").lower().split()
        if "image_src" in rel:
            out.add(attrs.get("href"), "image", "link-image_src")
    elif tag == "a":
        href = attrs.get("href")
        if href:
            kind = _kind_from_extension(href.strip())
            if kind is not None:
                out.add(href, kind, "a-href")
    style = attrs.get("style")
    if style and "url(" in style.lower():
        # Real inline styles are short; a hostile megabyte of "url(url(url(" must stay cheap.
        for match in _CSS_URL.finditer(style[:_MAX_STYLE]):
            out.add(next(g for g in match.groups() if g is not None), "image", "background-image")


def extract_media_links(html: bytes, *, base_url: str, max_items: int = 500) -> list[MediaLink]:
    """Media URLs a page shows, absolute, de-duplicated, in page order, at most ``max_items``.

    ``base_url`` is the page's final URL (after redirects); a ``<base href>`` overrides it.
    """
    if not html or max_items <= 0:
        return []
    tree = LexborHTMLParser(html)
    collector = _Collector(_base_url(tree, base_url), max_items)
    root = tree.root
    if root is None:
        return []
    for node in root.traverse(include_text=False):
        _visit(node, collector)
        if collector.full:
            break
    return collector.items


_TITLE_MAX = 300


def page_title(html: bytes) -> str:
    """The page's title as a reader sees it: og:title when the page sets one, else <title>.

    og:title is preferred because forum pages put the post's own title there, while <title> often
    adds the site's name. Whitespace is collapsed; at most 300 characters.
    """
    if not html:
        return ""
    tree = LexborHTMLParser(html)
    title = ""
    for node in tree.css("meta[property], meta[name]"):
        key = (node.attributes.get("property") or node.attributes.get("name") or "").strip().lower()
        if key in ("og:title", "twitter:title") and (node.attributes.get("content") or "").strip():
            title = node.attributes.get("content") or ""
            break
    if not title:
        title_node = tree.css_first("title")
        title = title_node.text(deep=True) if title_node is not None else ""
    title = " ".join(title.split())
    return title if len(title) <= _TITLE_MAX else title[: _TITLE_MAX - 1] + "…"
