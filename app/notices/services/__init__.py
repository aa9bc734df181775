"""Drafting, reviewing, signing and sending notices. Nothing leaves Jium without a signature.

One module per step; every name is importable from here as before the split."""

from app.notices.services.disclosure import (  # noqa: F401
    NAME_CHOICES,
    case_notice_name_set,
    notice_disclosure,
    submit_helper_fields,
)
from app.notices.services.drafts import (  # noqa: F401
    _group_matched_urls,
    _require_open,
    notice_drafts_for_case,
    notice_edit,
    notice_sign,
)
from app.notices.services.letters import (  # noqa: F401
    CONTACT_CHOSEN,
    CONTACT_ORG,
    CONTACT_PERSON,
    NoticeError,
    _acting_for,
    _letter_input,
    _regime,
    _victim_name,
    as_text,
    name_disclosed,
    notice_contact,
    notice_items,
    notice_pdf_bytes,
    notice_render,
    person_email,
    usable_email,
)
from app.notices.services.sending import (  # noqa: F401
    _FUTURE_SLACK,
    _MAIL_STATUS,
    _MAIL_STATUS_SECONDS,
    SUBMISSION_CHANNELS,
    _deadline,
    _send_failure_code,
    _tracking_start,
    _webhook,
    mail_server_available,
    notice_mark_submitted,
    notice_record_submitted,
    notice_reply_to,
    notice_send,
    send_failure_text,
)
