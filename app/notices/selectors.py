from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from app.cases.models import Case
from app.cases.selectors import case_get_for
from app.notices.models import Notice


def notice_list(*, case: Case) -> QuerySet[Notice]:
    return Notice.objects.filter(case=case).select_related("platform").order_by("id")


def notice_get_for(*, user: AbstractBaseUser | AnonymousUser, case_id: int, notice_id: int) -> Notice:
    """The notice if its case is visible to this person; 404 otherwise (other orgs' ids reveal nothing)."""
    case = case_get_for(user=user, case_id=case_id)
    notice = Notice.objects.filter(case=case, pk=notice_id).select_related("platform", "case").first()
    if notice is None:
        raise Http404("No such notice")
    return notice
