"""Batch takedown: a folder of reference images and a list of URLs in, drafted notices out.

    python manage.py takedown --references DIR --urls FILE --out DIR --victim-name NAME
        --contact-email EMAIL [--jurisdiction KR|US|EU|UK] [--lang ko|en]
        [--regime auto|take-it-down|dsa|dmca|kr|uk|platform] [--minor]

``--minor``: the person depicted is (or was) under 18 (19 in Korea), or nobody is sure. The case
then follows the minor rules: no image is stored (the references are fingerprinted in memory),
notices use the child-protection wording and withhold the name, and summary.json gains
``"routing"``: where to report in the person's country (hotline directory data).

Runs in-process through the same services the Celery pipeline uses, on default settings
(SQLite, no worker). Notices are drafted, never sent: a person reviews and signs them in the web
app. Running it again on the same input reuses the case (found by a key derived from the
victim's name and the references' SHA-256) and updates its drafts instead of adding new ones.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from app.accounts.models import Organization
from app.cases.models import Case, ReportedUrl, UrlState
from app.cases.services import (
    CaseInputError,
    case_create,
    reference_add_image,
    reported_url_scan,
    reported_urls_add,
    url_key,
)
from app.core.database import database_migrate_if_needed
from app.lib.urls import InvalidUrl, normalize_url
from app.notices.drafting import url_evidence
from app.notices.models import Notice
from app.notices.services import as_text, notice_drafts_for_case
from app.platforms.models import Platform
from app.platforms.rdap import registrable_domain
from app.platforms.resolve import resolve_url

IMAGE_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
    ".heic",
    ".heif",
    ".avif",
}
REGIME_CHOICES = ["auto", "take-it-down", "dsa", "dmca", "kr", "uk", "platform"]


class Command(BaseCommand):
    help = "Scan a list of URLs for a person's images and draft the takedown notices (never sends them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--references", required=True, type=Path, help="folder of the person's images")
        parser.add_argument("--urls", required=True, type=Path, help="text file, one URL per line")
        parser.add_argument("--out", required=True, type=Path, help="folder for summary.json and notices/")
        parser.add_argument("--victim-name", required=True)
        parser.add_argument("--contact-email", required=True)
        parser.add_argument("--jurisdiction", choices=["KR", "US", "EU", "UK"], default=None)
        parser.add_argument("--lang", choices=["ko", "en"], default=None)
        parser.add_argument("--regime", choices=REGIME_CHOICES, default="auto")
        parser.add_argument(
            "--minor",
            action="store_true",
            help="the person was under 18 (19 in Korea) or nobody is sure: no media stored, child-protection wording",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        database_migrate_if_needed()
        refs_dir: Path = options["references"]
        urls_file: Path = options["urls"]
        out: Path = options["out"]
        name = options["victim_name"].strip()
        email = options["contact_email"].strip()
        if not refs_dir.is_dir():
            raise CommandError(_("--references must be a folder of images: %(path)s") % {"path": refs_dir})
        if not urls_file.is_file():
            raise CommandError(_("--urls must be a text file: %(path)s") % {"path": urls_file})
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(_("--contact-email is not a valid email address.")) from None
        if not name:
            raise CommandError(_("--victim-name is empty."))
        jurisdiction = options["jurisdiction"] or ("KR" if options["lang"] == "ko" else "US")
        lang = options["lang"] or ("ko" if jurisdiction == "KR" else "en")

        if not Platform.objects.exists():
            from app.platforms.services import platforms_sync

            platforms_sync()
        organization = self._organization()
        images = sorted(p for p in refs_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise CommandError(_("No images found in %(path)s") % {"path": refs_dir})
        blobs = [(p, p.read_bytes()) for p in images]
        case = self._case(organization, name, email, jurisdiction, lang, blobs, minor=options["minor"])
        self.stdout.write(_("Case %(id)d (%(alias)s)") % {"id": case.pk, "alias": case.alias})

        references = 0
        for path, data in blobs:
            try:
                reference_add_image(case=case, actor=None, data=data, filename=path.name, operator_local=True)
                references += 1
            except CaseInputError as exc:
                self.stderr.write(f"{path.name}: {exc}")
        if not references:
            raise CommandError(_("None of the reference images could be read."))

        lines = [line.strip() for line in urls_file.read_text(encoding="utf-8-sig").splitlines()]
        lines = [line for line in lines if line and not line.startswith("#")]
        reported_urls_add(case=case, actor=None, urls=lines, enqueue=False)
        by_key = {u.url_key: u for u in ReportedUrl.objects.filter(case=case)}
        for n, line in enumerate(lines, start=1):
            reported = self._reported(by_key, line)
            if reported is not None and not reported.is_final:
                reported = reported_url_scan(reported_url_id=reported.pk) or reported
            state = reported.state if reported else "invalid"
            self.stdout.write(f"[{n}/{len(lines)}] {state:<10} {line[:100]}")
            self.stdout.flush()

        # --contact-email is the address platforms reply to, in every notice of this run.
        notice_drafts_for_case(
            case=case, actor=None, regime=options["regime"], lang=lang, contact_email=email
        )
        summary = self._write(case, lines, by_key, out)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "%(matched)d of %(total)d URLs matched; %(notices)d notices drafted in %(out)s (not sent: review and sign them in Jium)."
                )
                % {
                    "matched": sum(1 for u in summary["urls"] if u["status"] == "matched"),
                    "total": len(summary["urls"]),
                    "notices": len(summary["notices"]),
                    "out": out / "notices",
                }
            )
        )

    def _organization(self) -> Organization:
        orgs = list(Organization.objects.order_by("id")[:2])
        if len(orgs) == 1:
            return orgs[0]
        demo = Organization.objects.filter(slug="demo").first()
        if demo is not None:
            return demo
        if orgs:
            raise CommandError(
                _("Several organisations exist and none is 'demo'; run this from the web app instead.")
            )
        from app.accounts.services import demo_setup

        membership, password = demo_setup()
        if password:
            self.stdout.write(
                _(
                    "Created the organisation 'Demo NGO'. Log in as '%(user)s' with password: %(password)s (shown once)"
                )
                % {"user": membership.user.username, "password": password}
            )
        return membership.organization

    @transaction.atomic
    def _case(
        self,
        organization: Organization,
        name: str,
        email: str,
        jurisdiction: str,
        lang: str,
        blobs: list[tuple[Path, bytes]],
        *,
        minor: bool = False,
    ) -> Case:
        # Stable across runs, and says nothing about the person without the images themselves.
        digest = hashlib.sha256()
        digest.update(" ".join(name.casefold().split()).encode("utf-8"))
        for sha in sorted(hashlib.sha256(data).hexdigest() for _p, data in blobs):
            digest.update(sha.encode("ascii"))
        if minor:
            # A minor's run is its own case: an earlier adult run's case is never silently re-used.
            digest.update(b"minor")
        alias = f"takedown-{digest.hexdigest()[:12]}"
        existing = Case.objects.select_for_update().filter(organization=organization, alias=alias).first()
        if existing is not None:
            return existing
        return case_create(
            organization=organization, actor=None, alias=alias, jurisdiction=jurisdiction, language=lang,
            real_name=name, contact=email, age_group="minor" if minor else "adult",
        )  # fmt: skip

    @staticmethod
    def _reported(by_key: dict[str, ReportedUrl], line: str) -> ReportedUrl | None:
        try:
            return by_key.get(url_key(normalize_url(line)))
        except InvalidUrl:
            return None

    def _write(
        self, case: Case, lines: list[str], by_key: dict[str, ReportedUrl], out: Path
    ) -> dict[str, Any]:
        notices_dir = out / "notices"
        notices_dir.mkdir(parents=True, exist_ok=True)
        notice_files: dict[int, tuple[str, str]] = {}
        url_notice: dict[int, str] = {}
        notices_out = []
        for notice in Notice.objects.filter(case=case).select_related("platform").order_by("id"):
            slug = notice.platform.slug if notice.platform else notice.recipient_key.split(":", 1)[-1]
            stem = f"notice-{notice.pk}-{_safe(slug)}.{notice.lang}"
            pdf_rel, txt_rel = f"notices/{stem}.pdf", f"notices/{stem}.txt"
            _write_atomic(out / pdf_rel, bytes(notice.pdf or b""))
            _write_atomic(out / txt_rel, f"{as_text(notice.subject)}\n\n{as_text(notice.body)}".encode())
            notice_files[notice.pk] = (pdf_rel, txt_rel)
            urls = [item.reported_url for item in notice.items.select_related("reported_url")]
            delisting = bool(notice.platform and notice.platform.kind == "search")
            for u in urls:
                if not delisting or u.pk not in url_notice:
                    url_notice[u.pk] = pdf_rel
            notices_out.append(
                {
                    "id": notice.pk,
                    "platform": {
                        "slug": notice.platform.slug if notice.platform else notice.recipient_key,
                        "name": notice.recipient_name,
                    },
                    "regime": notice.regime,
                    "lang": notice.lang,
                    "state": notice.state,
                    "channel": {"kind": notice.channel_kind, "address_or_url": notice.channel_address},
                    "pdf": pdf_rel,
                    "text": txt_rel,
                    "urls": [u.url for u in urls],
                }
            )
        urls_out = []
        for line in lines:
            reported = self._reported(by_key, line)
            if reported is None:
                urls_out.append(_url_row(line, "failed", "not a valid web address"))
                continue
            reported.refresh_from_db()
            if reported.state == UrlState.WHITELISTED:
                urls_out.append(
                    _url_row(line, "no_match", "belongs to the person (whitelisted), never reported")
                )
                continue
            status = {"matched": "matched", "no_match": "no_match"}.get(str(reported.state), "failed")
            evidence = url_evidence(reported)
            resolution = resolve_url(
                reported.normalized_url,
                redirect_chain=evidence.redirect_chain or None,
                follow_short_links=False,
            )
            platform = resolution.platform
            row = _url_row(line, status, reported.error or ("" if status != "failed" else "not checked"))
            if platform is not None:
                row["platform"] = {"slug": platform.slug, "name": platform.name}
            elif resolution.host:
                # Not in the directory: the site itself, as its notice names it (abuse contact via RDAP).
                site = registrable_domain(resolution.host)
                row["platform"] = {"slug": f"host:{site}", "name": site}
            if evidence.matches:
                best = sorted(
                    evidence.matches,
                    key=lambda m: (0 if str(m["method"]).startswith("pdq") else 1, m["distance"]),
                )[0]
                ref = case.references.filter(pk=best["reference_id"]).first()
                row.update(
                    reference=ref.label if ref and ref.label else best["reference_id"],
                    method=best["method"],
                    distance=best["distance"],
                )
            row["notice"] = url_notice.get(reported.pk)
            urls_out.append(row)
        summary: dict[str, Any] = {"case": case.pk, "urls": urls_out, "notices": notices_out}
        if case.is_minor:
            from app.cases.selectors import hotlines_for_case

            summary["routing"] = [
                {"name": h.name(case.language), "url_or_phone": h.url_or_phone, "country": h.country}
                for h in hotlines_for_case(case=case)
            ]
        _write_atomic(out / "summary.json", json.dumps(summary, ensure_ascii=False, indent=2).encode("utf-8"))
        return summary


def _url_row(url: str, status: str, error: str) -> dict[str, Any]:
    return {"url": url, "status": status, "error": error or None, "platform": None, "reference": None,
            "method": None, "distance": None, "notice": None}  # fmt: skip


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)[:60] or "notice"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
