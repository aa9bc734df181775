from typing import Any

from django.http import HttpRequest

from app.accounts.selectors import membership_for_user


def membership(request: HttpRequest) -> dict[str, Any]:
    # The membership decorators already loaded it for most views; one query otherwise.
    found = getattr(request, "membership", None)
    if found is None and hasattr(request, "user"):
        found = membership_for_user(user=request.user)
    return {"membership": found}
