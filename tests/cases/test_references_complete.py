"""``references_complete``: kept originals fingerprinted again, older fingerprints completed."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from app.cases.services import reference_add_image
from app.matching.fingerprint import Fingerprint
from tests.matching.test_fitcheck import FACES


def _run(*args: str) -> dict:
    out = StringIO()
    call_command("references_complete", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def _strip_boxes(ref) -> None:
    """The reference as the code before face boxes stored it."""
    older = Fingerprint.from_bytes(bytes(ref.fingerprint))
    older.face_boxes, older.faces_checked = [], False
    ref.fingerprint = older.to_bytes()
    ref.save(update_fields=["fingerprint"])


def test_kept_originals_complete_older_fingerprints_once(case, owner):
    case.keep_originals = True
    case.save()
    ref = reference_add_image(
        case=case, actor=owner.user, data=(FACES / "Kate_Winslet" / "2.jpg").read_bytes()
    )
    _strip_boxes(ref)
    assert _run("--case", str(case.pk)) == {"checked": 1, "completed": 1, "skipped": []}
    ref.refresh_from_db()
    assert Fingerprint.from_bytes(bytes(ref.fingerprint)).face_boxes and ref.fingerprint_rev == 1
    # Already complete: nothing is rewritten.
    assert _run() == {"checked": 1, "completed": 0, "skipped": []}
    ref.refresh_from_db()
    assert ref.fingerprint_rev == 1


def test_discarded_originals_are_not_touched_and_a_wrong_case_is_an_error(case, owner):
    ref = reference_add_image(
        case=case, actor=owner.user, data=(FACES / "Kate_Winslet" / "2.jpg").read_bytes()
    )
    _strip_boxes(ref)
    assert _run() == {"checked": 0, "completed": 0, "skipped": []}
    ref.refresh_from_db()
    assert not Fingerprint.from_bytes(bytes(ref.fingerprint)).face_boxes and ref.fingerprint_rev == 0
    with pytest.raises(CommandError):
        call_command("references_complete", "--case", "999999")


def test_an_original_that_no_longer_hashes_the_same_is_left_alone(case, owner):
    case.keep_originals = True
    case.save()
    ref = reference_add_image(
        case=case, actor=owner.user, data=(FACES / "Kate_Winslet" / "2.jpg").read_bytes()
    )
    before = bytes(ref.fingerprint)
    # Another picture under this reference's hash: the command must not rewrite the reference.
    ref.original = (FACES / "Kate_Winslet" / "4.jpg").read_bytes()
    ref.save(update_fields=["original"])
    result = _run()
    assert result["completed"] == 0 and [s["reference"] for s in result["skipped"]] == [ref.pk]
    ref.refresh_from_db()
    assert bytes(ref.fingerprint) == before and ref.fingerprint_rev == 0
