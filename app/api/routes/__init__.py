"""API routes, one module per room they serve."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict

from app.accounts.services import audit_record
from app.api.http import ApiContext, ErrorOut
from app.cases.models import Case

# Every operation documents the error answers it can give, all in the one shape.
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    413: ErrorOut,
    415: ErrorOut,
}
# The largest id a database integer column holds; larger ids cannot exist, and are refused as such.
MAX_ID = 2_147_483_647


class Body(Schema):
    """A request body: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def audit(api: ApiContext, action: str, case: Case | None = None, **detail: Any) -> None:
    """An ``api.*`` audit event naming the token used, on every call that reads or changes something."""
    audit_record(
        organization=api.membership.organization,
        actor=api.user,
        action=action,
        case_id=case.pk if case is not None else None,
        detail={"token": api.token.pk, **detail},
    )
