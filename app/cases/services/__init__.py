"""Business steps for cases, their reference images and their reported URLs.

One module per kind of step; everything is importable from ``app.cases.services`` as before.
"""

from app.cases.services.cases import (
    CASE_EDITABLE_FIELDS,
    LETTER_MAX_BYTES,
    MINOR_ONLY_FIELDS,
    CaseInputError,
    case_assign,
    case_create,
    case_erase,
    case_remove_authorisation_letter,
    case_set_authorisation_letter,
    case_set_status,
    case_update,
    case_victim_account_create,
    whitelist_set,
)
from app.cases.services.minors import (
    MediaPurge,
    case_media_purge,
    case_set_age_group,
    hotline_report_record,
)
from app.cases.services.references import (
    FINGERPRINT_INTAKE_HOURS,
    FingerprintImport,
    fingerprint_intake_create,
    fingerprint_intake_get,
    fingerprint_intake_submit,
    reference_add_image,
    reference_delete,
    reference_fingerprints_import,
    reference_import_hashes,
    references_complete_from_originals,
)
from app.cases.services.urls import (
    UrlReportResult,
    reported_url_scan,
    reported_urls_add,
    reported_urls_enqueue_scans,
    reported_urls_recover_stuck,
    reported_urls_requeue,
    url_key,
)

__all__ = [
    "CASE_EDITABLE_FIELDS",
    "FINGERPRINT_INTAKE_HOURS",
    "LETTER_MAX_BYTES",
    "MINOR_ONLY_FIELDS",
    "CaseInputError",
    "FingerprintImport",
    "MediaPurge",
    "UrlReportResult",
    "case_assign",
    "case_create",
    "case_erase",
    "case_media_purge",
    "case_remove_authorisation_letter",
    "case_set_age_group",
    "case_set_authorisation_letter",
    "case_set_status",
    "case_update",
    "case_victim_account_create",
    "fingerprint_intake_create",
    "fingerprint_intake_get",
    "fingerprint_intake_submit",
    "hotline_report_record",
    "reference_add_image",
    "reference_delete",
    "reference_fingerprints_import",
    "reference_import_hashes",
    "references_complete_from_originals",
    "reported_url_scan",
    "reported_urls_add",
    "reported_urls_enqueue_scans",
    "reported_urls_recover_stuck",
    "reported_urls_requeue",
    "url_key",
    "whitelist_set",
]
