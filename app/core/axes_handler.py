"""django-axes with two limits: per (username, address) and per address across all usernames.

Axes counts both combinations (``AXES_LOCKOUT_PARAMETERS``) but compares them with one limit. A
person mistyping their password should be stopped after AXES_FAILURE_LIMIT tries; an address
spreading guesses over many usernames after AXES_IP_FAILURE_LIMIT, which is higher so that an
office behind one address is not locked out by a few colleagues' typos.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum


class AxesTwoLimitHandler(AxesDatabaseHandler):
    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        counts = [
            attempts.aggregate(Sum("failures_since_start"))["failures_since_start__sum"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        per_user = counts[0] if counts else 0
        per_address = counts[1] if len(counts) > 1 else 0
        if per_address >= settings.AXES_IP_FAILURE_LIMIT:
            return max(per_user, settings.AXES_FAILURE_LIMIT)
        return per_user
