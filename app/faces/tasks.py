from __future__ import annotations

from celery import shared_task

from app.faces.services import face_pending_expire


@shared_task(name="faces.expire_pending")
def expire_pending_faces() -> int:
    """Group photos nobody picked a face from within a day: their faces and crops are deleted."""
    return face_pending_expire()
