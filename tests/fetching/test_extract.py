"""Media links found in HTML: every way a page shows an image or a video."""

from __future__ import annotations

import time

from app.fetching.extract import MediaLink, extract_media_links, looks_like_html

PAGE = "https://example.com/gallery/page.html"


def urls(html: str, base: str = PAGE, **kwargs: int) -> list[str]:
    return [link.url for link in extract_media_links(html.encode(), base_url=base, **kwargs)]


def test_img_src_relative_and_absolute() -> None:
    html = '<img src="a.jpg"><img src="/root.png"><img src="//cdn.example.net/c.webp"><img src="https://other.example/d.gif">'
    assert urls(html) == [
        "https://example.com/gallery/a.jpg",
        "https://example.com/root.png",
        "https://cdn.example.net/c.webp",
        "https://other.example/d.gif",
    ]


def test_srcset_takes_the_largest_candidate() -> None:
    html = """
      <img src="small.jpg" srcset="small.jpg 320w, large.jpg 1280w, medium.jpg 640w">
      <img srcset="x1.jpg, x3.jpg 3x, x2.jpg 2x">
      <img srcset="https://img.example/w_100,h_100/p.jpg 100w, https://img.example/w_900,h_900/p.jpg 900w">
    """
    found = extract_media_links(html.encode(), base_url=PAGE)
    assert [(f.url, f.source) for f in found] == [
        ("https://example.com/gallery/large.jpg", "srcset"),
        ("https://example.com/gallery/small.jpg", "img"),
        ("https://example.com/gallery/x3.jpg", "srcset"),
        ("https://img.example/w_900,h_900/p.jpg", "srcset"),
    ]


def test_picture_sources() -> None:
    html = """<picture>
        <source type="image/avif" srcset="p-800.avif 800w, p-1600.avif 1600w">
        <source type="image/webp" srcset="p.webp">
        <img src="p.jpg" alt="">
    </picture>"""
    found = extract_media_links(html.encode(), base_url=PAGE)
    assert [(f.url.rsplit("/", 1)[1], f.source, f.kind_hint) for f in found] == [
        ("p-1600.avif", "picture", "image"),
        ("p.webp", "picture", "image"),
        ("p.jpg", "img", "image"),
    ]


def test_open_graph_and_twitter_cards() -> None:
    html = """<head>
      <meta property="og:image" content="https://example.com/og.jpg">
      <meta property="og:image:secure_url" content="https://example.com/og-secure.jpg">
      <meta name="twitter:image" content="/tw.png">
      <meta property="og:video" content="https://example.com/clip.mp4">
      <meta property="og:title" content="not media">
      <link rel="image_src" href="/legacy.jpg">
    </head>"""
    found = extract_media_links(html.encode(), base_url=PAGE)
    assert [(f.url, f.kind_hint, f.source) for f in found] == [
        ("https://example.com/og.jpg", "image", "og:image"),
        ("https://example.com/og-secure.jpg", "image", "og:image"),
        ("https://example.com/tw.png", "image", "twitter:image"),
        ("https://example.com/clip.mp4", "video", "og:video"),
        ("https://example.com/legacy.jpg", "image", "link-image_src"),
    ]


def test_video_src_sources_and_poster() -> None:
    html = """
      <video src="movie.mp4" poster="poster.jpg" controls></video>
      <video poster="/p2.jpg"><source src="a.webm" type="video/webm"><source src="a.mp4"></video>
    """
    found = extract_media_links(html.encode(), base_url=PAGE)
    assert [(f.url.rsplit("/", 1)[1], f.kind_hint, f.source) for f in found] == [
        ("movie.mp4", "video", "video"),
        ("poster.jpg", "image", "video-poster"),
        ("p2.jpg", "image", "video-poster"),
        ("a.webm", "video", "video-source"),
        ("a.mp4", "video", "video-source"),
    ]


def test_inline_background_images_as_on_telegram_previews() -> None:
    # Shaped like https://t.me/s/NAME: photos are links with an inline background-image.
    html = """<div class="tgme_widget_message_wrap">
      <a class="tgme_widget_message_photo_wrap 1" href="https://t.me/chan/10"
         style="width:800px;background-image:url('https://cdn4.cdn-telegram.org/file/AbC-1.jpg')"></a>
      <a class="tgme_widget_message_photo_wrap 2" style="background-image: url(&quot;https://cdn4.cdn-telegram.org/file/AbC-2.jpg&quot;)"></a>
      <i class="tgme_widget_message_video_thumb" style="background-image:url(https://cdn4.cdn-telegram.org/file/thumb.jpg)"></i>
      <video src="https://cdn4.cdn-telegram.org/file/clip.mp4" class="tgme_widget_message_video"></video>
      <div style="background: #fff url( /relative/bg.png ) no-repeat"></div>
    </div>"""
    found = extract_media_links(html.encode(), base_url="https://t.me/s/chan")
    assert [(f.url, f.source) for f in found] == [
        ("https://cdn4.cdn-telegram.org/file/AbC-1.jpg", "background-image"),
        ("https://cdn4.cdn-telegram.org/file/AbC-2.jpg", "background-image"),
        ("https://cdn4.cdn-telegram.org/file/thumb.jpg", "background-image"),
        ("https://cdn4.cdn-telegram.org/file/clip.mp4", "video"),
        ("https://t.me/relative/bg.png", "background-image"),
    ]


def test_links_to_image_and_video_files_only() -> None:
    html = """
      <a href="full/IMG_0001.JPG">photo</a>
      <a href="/dl/clip.MOV?token=1">video</a>
      <a href="photo.jpg.html">a page</a>
      <a href="/about">about</a>
      <a href="https://example.com/file.png#zoom">png</a>
    """
    found = extract_media_links(html.encode(), base_url=PAGE)
    assert [(f.url, f.kind_hint, f.source) for f in found] == [
        ("https://example.com/gallery/full/IMG_0001.JPG", "image", "a-href"),
        ("https://example.com/dl/clip.MOV?token=1", "video", "a-href"),
        ("https://example.com/file.png", "image", "a-href"),
    ]


def test_base_href_and_final_url() -> None:
    html = '<head><base href="https://static.example/assets/"></head><img src="a.jpg"><img src="/b.jpg">'
    assert urls(html) == ["https://static.example/assets/a.jpg", "https://static.example/b.jpg"]
    relative_base = '<base href="../media/"><img src="c.jpg">'
    assert urls(relative_base, base="https://example.com/x/y/after-redirect") == [
        "https://example.com/x/media/c.jpg"
    ]
    hostile_base = '<base href="javascript:alert(1)//"><img src="d.jpg">'
    assert urls(hostile_base) == ["https://example.com/gallery/d.jpg"]


def test_data_javascript_and_other_schemes_are_skipped() -> None:
    html = """
      <img src="data:image/png;base64,iVBORw0KGgo=">
      <img src="javascript:alert(1)"><img src=" JavaScript:alert(1)">
      <img src="blob:https://example.com/123"><img src="file:///etc/passwd"><img src="ftp://example.com/a.jpg">
      <img src=""><img src="   "><img src="#top"><img>
      <div style="background-image:url(data:image/gif;base64,R0lGOD)"></div>
      <img src="real.jpg">
    """
    assert urls(html) == ["https://example.com/gallery/real.jpg"]


def test_lazy_loading_attributes() -> None:
    html = '<img src="spinner.gif" data-src="real.jpg" data-srcset="real-400.jpg 400w, real-1200.jpg 1200w">'
    assert urls(html) == [
        "https://example.com/gallery/real-1200.jpg",
        "https://example.com/gallery/real.jpg",
        "https://example.com/gallery/spinner.gif",
    ]


def test_deduplicated_in_page_order() -> None:
    html = """
      <meta property="og:image" content="https://example.com/gallery/one.jpg">
      <img src="two.jpg"><img src="one.jpg"><a href="two.jpg">again</a>
      <img src="one.jpg#fragment"><img src="three.jpg">
    """
    assert urls(html) == [
        "https://example.com/gallery/one.jpg",
        "https://example.com/gallery/two.jpg",
        "https://example.com/gallery/three.jpg",
    ]


def test_cap_on_items() -> None:
    html = "".join(f'<img src="/i/{n}.jpg">' for n in range(5000))
    started = time.monotonic()
    found = extract_media_links(html.encode(), base_url=PAGE, max_items=500)
    assert len(found) == 500
    assert found[0].url == "https://example.com/i/0.jpg" and found[-1].url == "https://example.com/i/499.jpg"
    assert len(extract_media_links(html.encode(), base_url=PAGE, max_items=10_000)) == 5000
    assert time.monotonic() - started < 2


def test_broken_html_and_odd_encodings() -> None:
    html = b'<html><body><div><img src="a.jpg"<img src=\'b.jpg\'><p><img src=c.jpg></div></table>\xff\xfe<img src="\xea\xb0\x80.jpg">'
    found = [link.url for link in extract_media_links(html, base_url=PAGE)]
    assert "https://example.com/gallery/c.jpg" in found
    assert extract_media_links(b"", base_url=PAGE) == []
    assert extract_media_links(b"\x00" * 1000, base_url=PAGE) == []


def test_media_link_is_a_value() -> None:
    link = MediaLink(url="https://a/b.jpg", kind_hint="image", source="img")
    assert link == MediaLink(url="https://a/b.jpg", kind_hint="image", source="img")


def test_looks_like_html() -> None:
    assert looks_like_html(b"<!DOCTYPE html><html><body></body></html>")
    assert looks_like_html(b"\xef\xbb\xbf\n  <html lang=ko>")
    assert looks_like_html(b'<div class="x"><img src="a.jpg"></div>')
    assert not looks_like_html(b"\xff\xd8\xff\xe0 JFIF")
    assert not looks_like_html(b'{"json": true}')


def test_every_error_code_has_a_translated_message() -> None:
    import re
    from pathlib import Path

    from app.fetching.messages import FETCH_ERROR_MESSAGES

    root = Path(__file__).resolve().parents[2] / "app"
    source = (root / "lib" / "http.py").read_text() + (root / "fetching" / "scan.py").read_text()
    codes = set(re.findall(r'code="([a-z_]+)"', source)) | set(
        re.findall(r'_fail\(\s*item,\s*[^,]+,\s*"([a-z_]+)"', source)
    )
    codes -= {"refused", "failed", "error"}  # class defaults, never stored
    assert codes and codes <= FETCH_ERROR_MESSAGES.keys(), codes - FETCH_ERROR_MESSAGES.keys()


def test_hostile_inline_styles_stay_cheap() -> None:
    html = '<div style="background-image:' + "url(" * 250_000 + '"></div><img src="after.jpg">'
    started = time.monotonic()
    assert urls(html) == ["https://example.com/gallery/after.jpg"]
    assert time.monotonic() - started < 2
