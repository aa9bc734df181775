"""Business steps of tracking: start on send, re-check, decide removed or not, escalate, notify, watch.

One module per step; every name is importable from here as before the split."""

from app.tracking.services.alerts import (  # noqa: F401
    _EMAIL_TEXT,
    _alert,
    alert_notify,
    alerts_mark_seen,
)
from app.tracking.services.base import (  # noqa: F401
    TrackingError,
    _now,
)
from app.tracking.services.escalation import (  # noqa: F401
    _enqueue_escalation,
    _evidence_pdf,
    _hosting_targets,
    _hotline_targets,
    _letter,
    _open_urls,
    _regulator_for,
    escalation_decide,
    notice_escalate,
    overdue_list,
    tracking_sweep,
)
from app.tracking.services.rechecks import (  # noqa: F401
    _HTTP_IN_ERROR,
    GENERIC_TEXT_MARKERS,
    GONE_STATUSES,
    Decision,
    _decide,
    _enqueue_rechecks,
    _gone_error,
    _markers,
    _notices_refresh,
    _page_text,
    _record_check,
    rechecks_dispatch_due,
    removal_marker_in,
    tracking_initial_status,
    url_clear_flag,
    url_mark_removed,
    url_recheck,
)
from app.tracking.services.replies import (  # noqa: F401
    MANUAL_STATUSES,
    notice_set_status,
    platform_reply_record,
)
from app.tracking.services.starting import (  # noqa: F401
    _set_notice_status,
    deadline_override_set,
    notice_tracking_start,
    notices_tracking_sync,
)
from app.tracking.services.watches import (  # noqa: F401
    _enqueue_watch_scans,
    watch_add,
    watch_remove,
    watch_scan,
    watches_dispatch_due,
)
