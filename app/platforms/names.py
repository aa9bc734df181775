"""Names of legal bases and platforms in the reader's language, for pages, charts and exports.

Tracking rows and notices keep the code or the name as it was when they were made (statistics must
survive directory edits); these look the reader's wording up when a page is drawn.
"""

from __future__ import annotations

from django.utils.translation import get_language

from app.platforms.models import Platform, Regime


def _korean(lang: str | None) -> bool:
    return (lang or get_language() or "en").startswith("ko")


def regime_name(code: str, lang: str | None = None) -> str:
    """ "kr" -> "Telecommunications Business Act ..." / "전기통신사업법 ..."; unknown codes as they are."""
    regime = Regime.objects.filter(code=code).only("name_en", "name_ko").first()
    if regime is None:
        return code
    return (regime.name_ko if _korean(lang) else regime.name_en) or code


def platform_name(name: str, lang: str | None = None) -> str:
    """A platform's name as stored (either language) -> its name in the reader's language."""
    if not name:
        return name
    platform = Platform.objects.filter(name=name).first() or Platform.objects.filter(name_ko=name).first()
    return platform.display_name("ko" if _korean(lang) else "en") if platform else name
