"""URL -> platform for real-world-shaped addresses (no network: none of these is a short link)."""

from __future__ import annotations

import pytest

from app.platforms.models import Platform
from app.platforms.resolve import ascii_host, resolve_url

CASES = [
    # X
    ("https://x.com/someuser/status/1790000000000000001", "x"),
    ("https://twitter.com/someuser/status/1790000000000000001/photo/1", "x"),
    ("https://mobile.twitter.com/someuser/status/17900000000", "x"),
    ("https://www.twitter.com/someuser", "x"),
    ("https://pbs.twimg.com/media/GAbCdEfXYZ.jpg?format=jpg&name=large", "x"),
    ("https://video.twimg.com/ext_tw_video/179/pu/vid/720x1280/abc.mp4", "x"),
    ("https://abs.twimg.com/responsive-web/client-web/main.js", "x"),
    ("HTTPS://X.COM/SomeUser", "x"),
    ("x.com/someuser/status/1", "x"),
    # Discord
    ("https://discord.com/channels/1234/5678/9012", "discord"),
    ("https://discord.gg/abcdef", "discord"),
    ("https://cdn.discordapp.com/attachments/123/456/image0.jpg?ex=65", "discord"),
    ("https://media.discordapp.net/attachments/123/456/image0.png?width=400", "discord"),
    ("https://discordapp.com/invite/abc", "discord"),
    # Meta
    ("https://www.facebook.com/photo/?fbid=123456789&set=a.1", "meta"),
    ("https://m.facebook.com/story.php?story_fbid=1&id=2", "meta"),
    ("https://web.facebook.com/groups/123/posts/456", "meta"),
    ("https://fb.com/somepage", "meta"),
    ("https://scontent-icn1-1.xx.fbcdn.net/v/t39.30808-6/123_n.jpg?_nc_cat=1", "meta"),
    ("https://scontent.fsel1-1.fna.fbcdn.net/v/t1.6435-9/abc.jpg", "meta"),
    ("https://www.instagram.com/p/C1a2B3c4D5e/", "meta"),
    ("https://instagram.com/reel/C1a2B3c4D5e/", "meta"),
    ("https://scontent-ssn1-1.cdninstagram.com/v/t51.29350-15/abc.jpg", "meta"),
    ("https://www.threads.net/@someone/post/C1a2B3c", "meta"),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com", "meta"),
    # TikTok
    ("https://www.tiktok.com/@user/video/7300000000000000000", "tiktok"),
    ("https://m.tiktok.com/v/7300000000000000000.html", "tiktok"),
    ("https://p16-sign-va.tiktokcdn.com/obj/tos-maliva-p-0068/abc~tplv.jpeg", "tiktok"),
    ("https://v16-webapp.tiktok.com/video/tos/abc/", "tiktok"),
    # Reddit
    ("https://www.reddit.com/r/somesub/comments/abc123/title_here/", "reddit"),
    ("https://old.reddit.com/r/somesub/comments/abc123/", "reddit"),
    ("https://np.reddit.com/r/somesub/comments/abc123/", "reddit"),
    ("https://i.redd.it/abcdef123456.jpg", "reddit"),
    ("https://v.redd.it/abcdef123456/DASH_720.mp4", "reddit"),
    ("https://preview.redd.it/abcdef.jpg?width=640&crop=smart", "reddit"),
    ("https://external-preview.redd.it/abc.jpg?auto=webp", "reddit"),
    ("https://styles.redditmedia.com/t5_abc/styles/image.png", "reddit"),
    # Telegram
    ("https://t.me/somechannel/1234", "telegram"),
    ("https://t.me/s/somechannel", "telegram"),
    ("https://telegram.me/somechannel", "telegram"),
    ("https://telegra.ph/Some-Post-11-26", "telegram"),
    ("https://cdn4.telesco.pe/file/abc.jpg", "telegram"),
    # Aylo
    ("https://www.pornhub.com/view_video.php?viewkey=ph5f0000000000", "aylo"),
    ("https://de.pornhub.com/view_video.php?viewkey=abc", "aylo"),
    ("https://ei.phncdn.com/videos/202301/01/abc/original/(m=eaAaGwObaaaa)(mh=abc)1.jpg", "aylo"),
    ("https://www.youporn.com/watch/123/title/", "aylo"),
    ("https://www.redtube.com/123456", "aylo"),
    # XVideos / XNXX
    ("https://www.xvideos.com/video12345678/title", "xvideos"),
    ("https://img-hw.xvideos-cdn.com/videos/thumbs169/ab/cd/ef/abc.jpg", "xvideos"),
    ("https://www.xnxx.com/video-abc123/title", "xnxx"),
    # OnlyFans
    ("https://onlyfans.com/someone", "onlyfans"),
    ("https://public.onlyfans.com/files/thumbs/abc.jpg", "onlyfans"),
    # Search engines
    ("https://www.google.com/search?q=name&tbm=isch", "google-search"),
    ("https://www.google.co.kr/search?q=%EC%9D%B4%EB%A6%84", "google-search"),
    ("https://www.bing.com/images/search?q=name", "bing"),
    # Naver
    ("https://blog.naver.com/someblog/223000000000", "naver"),
    ("https://m.blog.naver.com/someblog/223000000000", "naver"),
    ("https://cafe.naver.com/somecafe/12345", "naver"),
    ("https://m.cafe.naver.com/ca-fe/web/cafes/123/articles/456", "naver"),
    ("https://postfiles.pstatic.net/MjAyMzEx/abc.jpg?type=w966", "naver"),
    ("https://blogfiles.pstatic.net/MjAyMzEx/abc.jpg", "naver"),
    ("https://band.us/band/12345/post/67", "naver"),
    ("https://www.naver.com/", "naver"),
    # Kakao
    ("https://someone.tistory.com/123", "kakao"),
    ("https://blog.kakaocdn.net/dn/abc/img.jpg", "kakao"),
    ("https://cafe.daum.net/somecafe/abc/123", "kakao"),
    ("https://m.cafe.daum.net/somecafe/abc/123", "kakao"),
    ("https://t1.daumcdn.net/cfile/tistory/abc", "kakao"),
    ("https://pf.kakao.com/_abc/123", "kakao"),
    ("https://k.kakaocdn.net/dn/abc/img.jpg", "kakao"),
    # DC Inside
    ("https://gall.dcinside.com/board/view/?id=somegall&no=123", "dcinside"),
    ("https://m.dcinside.com/board/somegall/123", "dcinside"),
    ("https://dcimg1.dcinside.co.kr/viewimage.php?id=abc&no=123", "dcinside"),
    ("https://image.dcinside.com/viewimage.php?id=abc", "dcinside"),
    # YouTube / Google
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "youtube"),
    ("https://m.youtube.com/watch?v=dQw4w9WgXcQ", "youtube"),
    ("https://www.youtube.com/shorts/abcdefghijk", "youtube"),
    ("https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg", "youtube"),
    ("https://drive.google.com/file/d/1AbCdEf/view", "google"),
    ("https://lh3.googleusercontent.com/pw/abc=w1200", "google"),
    ("https://someone.blogspot.com/2024/01/post.html", "google"),
    ("https://photos.google.com/share/abc", "google"),
    # Image hosts, forums, adult sites
    ("https://imgur.com/a/AbCdEfG", "imgur"),
    ("https://i.imgur.com/AbCdEfG.jpeg", "imgur"),
    ("https://m.imgur.com/gallery/AbCdEfG", "imgur"),
    ("https://someone.tumblr.com/post/123456/title", "tumblr"),
    ("https://64.media.tumblr.com/abc/def-ab/s1280x1920/img.jpg", "tumblr"),
    ("https://www.pinterest.com/pin/123456789/", "pinterest"),
    ("https://i.pinimg.com/originals/ab/cd/ef/abc.jpg", "pinterest"),
    ("https://kr.pinterest.com/pin/123/", "pinterest"),
    ("https://story.snapchat.com/p/abc", "snapchat"),
    ("https://bsky.app/profile/someone.bsky.social/post/3kabc", "bluesky"),
    ("https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:abc/bafk@jpeg", "bluesky"),
    ("https://xhamster.com/videos/title-123", "xhamster"),
    ("https://ic-vt-nss.xhcdn.com/a/abc/webp/000/001/x.jpg", "xhamster"),
    ("https://spankbang.com/abc/video/title", "spankbang"),
    ("https://boards.4chan.org/b/thread/900000000", "4chan"),
    ("https://i.4cdn.org/b/1700000000000.jpg", "4chan"),
    ("https://www.dropbox.com/s/abc/photo.jpg?dl=0", "dropbox"),
    ("https://dl.dropboxusercontent.com/s/abc/photo.jpg", "dropbox"),
    ("https://mega.nz/file/AbCdEf#key", "mega"),
    ("https://www.flickr.com/photos/someone/1234567890", "flickr"),
    ("https://live.staticflickr.com/65535/123_abc_b.jpg", "flickr"),
    ("https://vk.com/wall-123_456", "vk"),
    ("https://sun9-1.userapi.com/impg/abc.jpg", "vk"),
    ("https://line.me/R/ti/p/abc", "line"),
    ("https://pann.nate.com/talk/370000000", "nate"),
    ("https://www.fmkorea.com/6500000000", "fmkorea"),
    ("https://m.fmkorea.com/best/6500000000", "fmkorea"),
    ("https://www.ilbe.com/view/11400000000", "ilbe"),
    ("https://theqoo.net/square/3000000000", "theqoo"),
    ("https://www.erome.com/a/AbCdEf", "erome"),
    ("https://motherless.com/ABC123", "motherless"),
    ("https://fansly.com/someone/posts", "fansly"),
    ("https://files.catbox.moe/abc123.jpg", "catbox"),
    ("https://i.ibb.co/abc/photo.jpg", "imgbb"),
    ("https://ibb.co/abc123", "imgbb"),
    ("https://i.postimg.cc/abc/photo.jpg", "postimages"),
    ("https://www.twitch.tv/videos/123", "twitch"),
    # Trailing dot, port, userinfo, upper case
    ("https://www.reddit.com./r/x/", "reddit"),
    ("https://cdn.discordapp.com:443/attachments/1/2/a.jpg", "discord"),
    ("https://user@i.imgur.com/abc.jpg", "imgur"),
    # Unknown hosts and look-alikes
    ("https://example.org/gallery/1", None),
    ("https://notreddit.com/r/x", None),
    ("https://reddit.com.evil.example/r/x", None),
    ("https://x.community.example/post/1", None),
    ("https://twimg.com.attacker.net/a.jpg", None),
    ("https://fakefbcdn.net/a.jpg", None),
    ("http://203.0.113.7/photos/1.jpg", None),
    ("https://사진.한국/post/1", None),
]


def test_at_least_a_hundred_cases():
    assert len(CASES) >= 100


@pytest.mark.parametrize(("url", "slug"), CASES)
def test_url_resolves_to_platform(directory, url, slug):
    resolution = resolve_url(url, follow_short_links=False)
    platform = resolution.platform
    assert (platform.slug if platform else None) == slug, url


def test_idn_hosts_are_compared_in_ascii(directory):
    platform = Platform.objects.get(slug="naver")
    # A Korean-script domain added by an NGO matches both the Unicode and the punycode spelling.
    from app.platforms.services import platform_update

    platform_update(platform=platform, actor=None, domains=[*platform.domains, "네이버.한국"])
    assert ascii_host("네이버.한국") == "xn--950bt9s8xi.xn--3e0b707e"
    assert resolve_url("https://네이버.한국/abc").platform.slug == "naver"
    assert resolve_url("https://xn--950bt9s8xi.xn--3e0b707e/abc").platform.slug == "naver"
    assert resolve_url("https://m.네이버.한국/abc").platform.slug == "naver"
    # Full-width dots are read as dots.
    assert resolve_url("https://m.blog.naver。com/x").platform.slug == "naver"


def test_directory_has_thirty_platforms_with_dated_sourced_channels(directory):
    assert Platform.objects.count() >= 30
    for platform in Platform.objects.prefetch_related("channels"):
        assert platform.verified_on and platform.source, platform.slug
        for channel in platform.channels.all():
            assert channel.verified_on and channel.source, (platform.slug, channel.address)
