"""Business steps for API tokens: create (the token is returned once), revoke, authenticate."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import OperationalError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from app.accounts.models import Role
from app.accounts.selectors import membership_for_user
from app.accounts.services import audit_record
from app.api.models import ApiJob, ApiJobState, ApiToken
from app.cases.models import Case

log = logging.getLogger(__name__)

TOKEN_PREFIX = "jium_"  # noqa: S105 -- a marker that makes leaked tokens easy to spot, not a secret
PREFIX_SHOWN = len(TOKEN_PREFIX) + 6
# Recording every use would turn each read into a write; a minute's precision is enough to spot a stale token.
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 200


class ApiTokenError(ValueError):
    """A token cannot be made for this person; the message is meant for the operator."""


def token_sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_token_create(
    *, user: User, name: str, actor: User | None = None, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for a staff member; the token itself is returned here once and never stored.

    ``actor`` is who made it: None when an operator ran the management command. ``expires_at``
    (optional) is when it stops working by itself.
    """
    name = name.strip()
    if not name:
        raise ApiTokenError(_("Give the token a name, for example the script that will use it."))
    if len(name) > 100:
        raise ApiTokenError(_("The name is too long (at most 100 characters)."))
    if not user.is_active:
        raise ApiTokenError(_("This account is disabled."))
    membership = membership_for_user(user=user)
    if membership is None or membership.role not in (Role.ADMIN, Role.CASEWORKER):
        raise ApiTokenError(_("Only organisation admins and caseworkers can use the API."))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    if expires_at is not None and expires_at <= timezone.now():
        raise ApiTokenError(_("The expiry date must be in the future."))
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:PREFIX_SHOWN], token_sha256=token_sha256(raw), expires_at=expires_at
    )
    audit_record(
        organization=membership.organization,
        actor=actor,
        action="api.token.create",
        object_type="api_token",
        object_id=token.pk,
        detail={"user_id": user.pk},
    )
    return token, raw


def api_token_revoke(*, token: ApiToken, actor: User | None = None) -> ApiToken:
    """Stop a token from working at once; the row stays so the audit log's token ids keep their meaning."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        membership = membership_for_user(user=token.user)
        if membership is not None:
            audit_record(
                organization=membership.organization,
                actor=actor,
                action="api.token.revoke",
                object_type="api_token",
                object_id=token.pk,
                detail={"user_id": token.user_id},
            )
    return token


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The live token of an active user that ``raw`` is, with its user loaded; None for anything else."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > MAX_TOKEN_LENGTH:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_sha256=token_sha256(raw), revoked_at__isnull=True, user__is_active=True)
        # Every API path authenticates here, so an expired token stops everywhere at once.
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# ---- jobs: long work started by an API call ----------------------------------------------------

JOB_KINDS = ("notices.draft",)


def api_job_create(*, case: Case, actor: User, kind: str, params: dict[str, object]) -> ApiJob:
    """A job row, queued for a worker once the request's transaction commits."""
    from django.db import transaction

    from app.api.tasks import run_job

    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = ApiJob.objects.create(
        organization=case.organization, case=case, created_by=actor, kind=kind, params=params
    )
    transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


def api_job_run(*, job_id: int) -> ApiJob | None:
    """Do a queued job once; a job already finished (a task delivered twice) is left as it is."""
    from app.notices.services import NoticeError, notice_drafts_for_case

    claimed = ApiJob.objects.filter(pk=job_id, state=ApiJobState.QUEUED).update(state=ApiJobState.RUNNING)
    job = ApiJob.objects.select_related("case").filter(pk=job_id).first()
    if job is None or (not claimed and job.state != ApiJobState.RUNNING):
        return job
    try:
        if job.kind == "notices.draft" and job.case is not None:
            drafts = notice_drafts_for_case(
                case=job.case,
                actor=job.created_by,
                regime=str(job.params.get("regime") or "auto"),
                lang=str(job.params.get("lang") or "") or None,
            )
            job.result = {"notice_ids": [n.pk for n in drafts]}
        job.state = ApiJobState.DONE
    except NoticeError as exc:
        job.state, job.error = ApiJobState.FAILED, str(exc)[:500]
    except OperationalError:
        # The database went away: the task is retried, so the job goes back to waiting.
        ApiJob.objects.filter(pk=job_id).update(state=ApiJobState.QUEUED)
        raise
    except Exception as exc:
        log.exception("API job %s failed", job_id)
        job.state, job.error = ApiJobState.FAILED, _("Something went wrong on our side. Please try again.")
        job.error = str(job.error)[:500] + f" ({type(exc).__name__})"
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "result", "error", "finished_at"])
    return job
