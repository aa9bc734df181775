"""Translated, plain-language text for fetch and scan failures, keyed by their stable codes.

app/lib/http.py and app/fetching/scan.py are framework-free and give English reasons; records keep
the code (FetchRecord.error_code, MediaItem.error_code) so pages can show it in the reader's language.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

FETCH_ERROR_MESSAGES: dict[str, Promise] = {
    "private_address": _("This address points to a private or reserved network, which Jium never contacts."),
    "unsupported_scheme": _("Only http and https addresses can be checked."),
    "invalid_url": _("This is not a valid web address."),
    "timeout": _("The site took too long to answer."),
    "connect": _("The site could not be reached."),
    "network": _("The connection to the site broke off."),
    "tls": _("The site's security certificate is not valid."),
    "too_large": _("The answer is larger than the size limit."),
    "bad_encoding": _("The site sent a compressed answer that could not be decompressed."),
    "too_many_redirects": _("The page redirects too many times."),
    "redirect_loop": _("The page redirects in a loop."),
    "bad_redirect": _("The page redirects to an invalid address."),
    "busy": _("Too many requests to this site are already running; Jium will try again later."),
    "http_error": _("The site answered with an error."),
    "http_status": _("The site answered with an error."),
    "empty": _("The address returned an empty answer."),
    "not_media": _("This is not an image or a video."),
    "not_a_page": _("The address did not return a web page, an image or a video."),
    "svg": _("SVG drawings are not opened, for safety."),
    "undecodable": _("The file could not be read."),
    "decode_empty": _("The file is empty or has no pixels."),
    "decode_corrupt": _("The file is damaged and could not be read."),
    "decode_truncated": _("The file is incomplete (cut off) and could not be read."),
    "decode_too_large": _(
        "The image or video is larger than the size limit (it may be built to exhaust memory)."
    ),
    "scan_time_limit": _("Not checked: the scan ran out of time."),
}


def fetch_error_text(code: str, fallback: str = "") -> str:
    """The reader's-language text for an error code; ``fallback`` (the English reason) otherwise."""
    message = FETCH_ERROR_MESSAGES.get(code)
    return str(message) if message is not None else fallback
