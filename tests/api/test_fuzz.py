"""Schemathesis against the live schema: every operation, positive and negative examples, a fixed budget.

Path ids are drawn from real rows of our organisation and of another one, so the fuzzer reaches real
objects and tries to cross over: nothing of the other organisation may ever answer 2xx. Checks: no
server error, status code, content type and body all as the schema documents them.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from app.api.models import ApiJob
from app.api.services import api_token_create
from app.api.webhooks import webhook_endpoint_create
from app.cases.models import Reference
from app.cases.services import case_create, reported_urls_add
from app.tracking.models import NoticeStatus
from tests.faces.helpers import consent
from tests.faces.test_pipeline import _face_only_url
from tests.tracking.helpers import seed_notice

# Examples per operation and generation mode: 54 operations x 2 modes x 6 examples: 648 requests, about a minute.
EXAMPLES = 6
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _objects(case: Any) -> dict[str, int]:
    tracking = seed_notice(case, platform="Imgur", regime="take-it-down", status=NoticeStatus.SENT)
    url_tracking = tracking.notice.items.get().reported_url.tracking
    reference = Reference.objects.create(case=case, label="r", pdq_hex="f" * 64, fingerprint=b"")
    job = ApiJob.objects.create(organization=case.organization, case=case, kind="notices.draft")
    reported_urls_add(case=case, actor=None, urls=["https://pics.example/a"], enqueue=False)
    consent(case)
    face_match = _face_only_url(case, f"https://x.com/someone/status/{case.pk}")
    return {
        "face_id": face_match.face_id,
        "match_id": face_match.pk,
        "case_id": case.pk,
        "notice_id": tracking.notice_id,
        "tracking_id": tracking.pk,
        "url_id": url_tracking.reported_url_id,
        "reference_id": reference.pk,
        "job_id": job.pk,
        "escalation_id": tracking.pk,
        "webhook_id": webhook_endpoint_create(
            organization=case.organization, actor=None, url="https://ngo.example/hook", events=["url.matched"]
        ).pk,
    }


@pytest.fixture
def wsgi_app():  # type: ignore[no-untyped-def]
    """Django's real WSGI handler. It closes the database connection after each request, which would
    end the test's transaction; Django's own test client switches that off the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(case, owner, outsider, settings):  # type: ignore[no-untyped-def]
    settings.ALLOWED_HOSTS = ["*"]
    theirs_case = case_create(
        organization=outsider.organization, actor=outsider.user, alias="Theirs", jurisdiction="UK"
    )
    ours, theirs = _objects(case), _objects(theirs_case)
    token = api_token_create(user=owner.user, name="fuzz")[1]
    return ours, theirs, token


def _pin_ids(raw: dict[str, Any], ours: dict[str, int], theirs: dict[str, int]) -> dict[str, Any]:
    """Each id in a path is one of ours or one of theirs (or a missing one), never an arbitrary integer."""
    raw = copy.deepcopy(raw)
    for operations in raw["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                name = parameter["name"]
                if parameter["in"] == "path" and name in ours:
                    parameter["schema"] = {
                        "type": "integer",
                        "enum": [ours[name], theirs[name], 2_000_000_000],
                    }
    return raw


def test_fuzz_every_operation(fuzz_world, wsgi_app):
    ours, theirs, token = fuzz_world
    # Read through the same WSGI app: Django's test client would switch the connection closing back on.
    live = json.loads(Client(wsgi_app).get("/api/v1/openapi.json").get_data())
    raw = _pin_ids(live, ours, theirs)
    schema = schemathesis.openapi.from_dict(raw)
    app = wsgi_app
    headers = {"Authorization": f"Bearer {token}"}
    ran: list[str] = []
    problems: list[str] = []
    statuses: Counter[int] = Counter()

    operations = [result.ok() for result in schema.get_all_operations()]
    # Erasing our case (or a reference) first would leave every later operation a 404: those go last.
    operations.sort(key=lambda op: (op.method.upper() == "DELETE" or "erase" in op.path, op.label))
    for operation in operations:
        ran.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                derandomize=True,  # the same examples on every run: CI never turns red by luck
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                # No shrinking: a failure is reported as found (with its curl line) instead of minutes later.
                phases=[Phase.explicit, Phase.generate],
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                response = case.call_and_validate(app=app, headers=headers, checks=CHECKS)
                statuses[response.status_code] += 1
                params = case.path_parameters or {}
                theirs_named = [n for n, v in params.items() if n in theirs and str(v) == str(theirs[n])]
                if theirs_named and response.status_code < 400:
                    raise AssertionError(f"{case.method} {case.formatted_path} reached another organisation")

            try:
                run()
            except Exception as exc:  # collect every operation's failure, not only the first
                problems.append(f"{operation.label} [{mode.value}]: {str(exc)[:2000]}")
    print(f"fuzzed {len(ran)} operations, {sum(statuses.values())} requests, statuses {dict(statuses)}")
    assert len(ran) >= 45, ran
    assert sum(statuses.values()) >= len(ran) * EXAMPLES  # every operation really ran its examples
    assert statuses[200] and statuses[400] and statuses[404]
    assert problems == [], "\n\n".join(problems)
