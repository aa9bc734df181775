"""Hash lists exchanged with the matching ecosystem: reading and writing their formats, and importing
a list for a whole organisation.

The formats, as Meta's open-source tools write and read them (facebook/ThreatExchange, read at
commit baefb4ed67b6, July 2026):

- ``pdq``: one 64-hex PDQ hash per line — what ``threatexchange match --hashes`` reads
  (python-threatexchange/threatexchange/cli/match_cmd.py, ``_match_hashes``).
- ``te``: ``<signal type> <signal>`` per line, e.g. ``pdq f8f8f0ce…`` — what ``threatexchange hash``
  prints (cli/hash_cmd.py: ``print(hasher.get_name(), hash_str)``) and ``threatexchange dataset
  --print-signals --print-signals-only`` prints (cli/dataset_cmd.py, ``_print_stdout``).
- ``te_csv``: CSV with the header ``signal_type,signal_str,collab,category,tags`` — ``threatexchange
  dataset --print-signals --csv`` (cli/dataset_cmd.py, ``execute_print_signals`` / ``_print_csv``);
  ``category`` is a ``SignalOpinionCategory`` / ``AggregateSignalOpinionCategory`` name
  (exchanges/fetch_state.py) and ``tags`` are space-separated.
- ``hma``: Hasher-Matcher-Actioner bank content as JSON. Each item is either the body of
  ``POST /c/bank/<bank_name>/signal`` (signal type name to signal, and an optional ``note``:
  hasher-matcher-actioner/src/OpenMediaMatch/blueprints/curation.py, ``bank_add_as_signals``), or
  a bank content record as ``GET /c/bank/<bank_name>/content/<id>?include_signals=true`` answers it
  (``id``, ``disable_until_ts``, ``signals``, …: schemas/curation.py, ``BankContentResponse``).
  Content disabled in its bank (``disable_until_ts`` 0, or a time still to come:
  python-threatexchange/threatexchange/storage/interfaces.py, ``BankContentConfig.enabled``) is
  skipped, as HMA itself would not match on it.

Signal type names are python-threatexchange's ``SignalType.get_name()``: ``pdq`` (PdqSignal),
``vpdq`` (the vpdq extension's VPDQSignal) and ``video_md5`` (VideoMD5Signal). Jium matches images by
PDQ and videos by vPDQ; every other signal type is reported as skipped, never silently dropped. A
``vpdq`` signal is a JSON list of ``"pdq_hex,quality,timestamp"`` strings (one per hashed frame, one
frame a second); ``threatexchange hash`` prints it after the type name with JSON's spaces, so in a
``te`` line it runs from the first ``[`` to the end of the JSON value. Each becomes a reference video
(app.cases.services.videos) that matches fetched videos as an uploaded reference video does. None of these formats carries PDQ quality; python-threatexchange
makes no PDQ signal under quality 50 (PdqSignal.QUALITY_THRESHOLD), and imported hashes are kept
with quality 100 as Jium's other hash imports are.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from app.accounts.models import Organization
from app.cases.models import AgeGroup, Case, CaseKind, Jurisdiction, Reference
from app.cases.services.cases import CaseInputError, case_create
from app.cases.services.references import hash_text_parse, reference_import_hashes, reference_import_pdq

PDQ_HEX = re.compile(r"[0-9a-f]{64}")
# python-threatexchange's names (SignalType.get_name()).
SIGNAL_PDQ = "pdq"
SIGNAL_VIDEO_MD5 = "video_md5"
SIGNAL_VPDQ = "vpdq"
TE_CSV_HEADER = ["signal_type", "signal_str", "collab", "category", "tags"]
# The opinion a list's maker gives a signal; NEGATIVE_CLASS means "false positive or test data".
TE_NEGATIVE = "NEGATIVE_CLASS"
# HMA's POST /c/bank/<bank>/signal body: every key but these names a signal type.
HMA_NON_SIGNAL_KEYS = frozenset({"note"})

EXPORT_FORMATS = ("pdq", "csv", "json", "stopncii", "te", "te_csv", "hma")
VIDEO_FORMATS = ("te", "te_csv", "hma")  # the formats with a vpdq signal type
IMPORT_TEXT_FORMATS = ("pdq", "csv", "te", "te_csv", "hma", "stopncii")
MAX_LIST_ITEMS = 5000


@dataclass
class ParsedList:
    """PDQ hashes (hex, quality) in the order read, vPDQ signals (where read, signal string), and one
    short reason per entry not imported."""

    hashes: list[tuple[str, int]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    videos: list[tuple[str, str]] = field(default_factory=list)


def _skip_reason(where: str, signal_type: str) -> str:
    return _("%(where)s: %(type)s is not a signal type Jium matches") % {
        "where": where,
        "type": signal_type[:40],
    }


def _not_pdq(where: str) -> str:
    return _("%(where)s: not a PDQ hash (64 hexadecimal characters expected)") % {"where": where}


def _add_signal(out: ParsedList, where: str, signal_type: str, value: object) -> None:
    name = signal_type.strip().lower()
    if name == SIGNAL_VPDQ:
        # Read (and refused with its reason) when imported: the video hash module knows the format.
        if isinstance(value, list | dict):  # already-decoded JSON in an HMA object
            value = json.dumps(value)
        if isinstance(value, str) and value.strip():
            out.videos.append((where, value.strip()))
        else:
            out.skipped.append(_("%(where)s: an empty video hash (vPDQ)") % {"where": where})
        return
    if name != SIGNAL_PDQ:
        out.skipped.append(_skip_reason(where, signal_type))
        return
    hex_ = value.strip().lower() if isinstance(value, str) else ""
    if PDQ_HEX.fullmatch(hex_):
        out.hashes.append((hex_, 100))
    else:
        out.skipped.append(_not_pdq(where))


def hash_list_signals_read(out: ParsedList, *, signals: list[Any]) -> ParsedList:
    """StopNCII-style signals (``{"signalType", "hashValue", "quality"?}``), from a file or from the
    API's ``signals`` field, into ``out``: one translated reason per entry not imported."""
    for index, signal in enumerate(signals):
        where = _("item %(n)s") % {"n": index}
        kind = signal.get("signalType") if isinstance(signal, dict) else None
        if not isinstance(kind, str):
            out.skipped.append(_("%(where)s: no signals") % {"where": where})
        elif kind != "ImagePDQ":
            out.skipped.append(_skip_reason(where, kind))
        else:
            value = signal.get("hashValue")
            hex_ = value.strip().lower() if isinstance(value, str) else ""
            quality = signal.get("quality")
            ok = isinstance(quality, int) and not isinstance(quality, bool) and 0 <= quality <= 100
            if PDQ_HEX.fullmatch(hex_):
                out.hashes.append((hex_, quality if ok else 100))
            else:
                out.skipped.append(_not_pdq(where))
    return out


def hash_list_parse(*, format: str, content: str) -> ParsedList:
    """Read a ``te``, ``te_csv``, ``hma`` or ``stopncii`` (``{"signals": [...]}``) list. Raises CaseInputError when the text is not that format
    at all (not JSON, no CSV header); single bad entries are listed under ``skipped``."""
    out = ParsedList()
    if format == "te":
        for number, line in enumerate(content.splitlines(), start=1):
            cells = line.split(None, 1)
            if not cells or cells[0].startswith("#"):
                continue
            where = _("line %(n)s") % {"n": number}
            if len(cells) == 1:
                # A bare hash: the one-signal-type shape (`--only-signals pdq`, `match --hashes`).
                _add_signal(out, where, SIGNAL_PDQ, cells[0])
            elif cells[0].lower() == SIGNAL_VPDQ:
                _add_signal(out, where, cells[0], _te_json_signal(cells[1]))
            else:
                # `dataset -P` without -S adds the collaboration and metadata after the signal.
                _add_signal(out, where, cells[0], cells[1].split()[0])
    elif format == "te_csv":
        reader = csv.DictReader(io.StringIO(content))
        columns = {c.strip() for c in reader.fieldnames or []}
        if not {"signal_type", "signal_str"} <= columns:
            raise CaseInputError(
                _(
                    "This is not a ThreatExchange CSV: the first line must name the columns signal_type and signal_str."
                )
            )
        for number, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "") for k, v in row.items()}
            where = _("line %(n)s") % {"n": number}
            if row.get("category", "").strip().upper() == TE_NEGATIVE:
                out.skipped.append(
                    _("%(where)s: marked as a false positive (NEGATIVE_CLASS) by the list's maker")
                    % {"where": where}
                )
                continue
            _add_signal(out, where, row.get("signal_type", ""), row.get("signal_str", ""))
    elif format == "stopncii":
        try:
            payload = json.loads(content)
        except (json.JSONDecodeError, RecursionError):
            raise CaseInputError(_("The file is not valid JSON.")) from None
        signals = payload.get("signals") if isinstance(payload, dict) else None
        hash_list_signals_read(out, signals=signals if isinstance(signals, list) else [])
    elif format == "hma":
        try:
            payload = json.loads(content)
        except (json.JSONDecodeError, RecursionError):
            raise CaseInputError(_("The file is not valid JSON.")) from None
        items = payload if isinstance(payload, list) else [payload]
        for index, item in enumerate(items):
            where = _("item %(n)s") % {"n": index}
            if not isinstance(item, dict):
                out.skipped.append(_("%(where)s: not a bank content object") % {"where": where})
                continue
            _hma_item(out, where, item)
    else:
        raise ValueError(f"not a hash list format: {format}")
    if not out.hashes and not out.skipped and not out.videos:
        raise CaseInputError(_("No PDQ hashes were found in this file."))
    return out


def _te_json_signal(rest: str) -> str:
    """A ``vpdq`` signal in a ``te`` line: the JSON value at the start of ``rest`` (it has spaces;
    ``dataset -P`` without -S writes the collaboration after it)."""
    rest = rest.strip()
    if rest[:1] in ("[", "{"):
        try:
            _value, end = json.JSONDecoder().raw_decode(rest)
        except (json.JSONDecodeError, RecursionError):
            return rest  # refused with its reason on import
        return rest[:end]
    return rest.split()[0]


def hash_list_parse_simple(*, content: str) -> ParsedList:
    """A ``pdq`` (hash per line) or ``csv`` (hash, quality) list, read exactly as the hash import
    reads any list; the entries that are not hashes come back, as they were, under ``skipped``."""
    hashes, errors = hash_text_parse(content)
    return ParsedList(hashes=hashes, skipped=errors)


def _hma_item(out: ParsedList, where: str, item: dict[str, Any]) -> None:
    if "signals" in item:  # a bank content record (BankContentResponse)
        disabled = item.get("disable_until_ts", 1)
        if (
            isinstance(disabled, int)
            and not isinstance(disabled, bool)
            and (disabled == 0 or (disabled != 1 and disabled > time.time()))
        ):
            out.skipped.append(_("%(where)s: disabled in its bank") % {"where": where})
            return
        signals = item["signals"]
    else:  # the body of POST /c/bank/<bank>/signal
        signals = {k: v for k, v in item.items() if k not in HMA_NON_SIGNAL_KEYS}
    if not isinstance(signals, dict) or not signals:
        out.skipped.append(_("%(where)s: no signals") % {"where": where})
        return
    for signal_type, value in signals.items():
        _add_signal(out, where, str(signal_type), value)


def hash_list_render(
    rows: list[tuple[str, int]], format: str, *, collab: str, videos: Sequence[str] = ()
) -> tuple[str, str, str]:
    """(body, content type, file extension) of PDQ hashes in an exchange format: the same rows,
    whichever format — no features, no images, nothing about the person. ``videos``: vPDQ signal
    strings, written in the formats that have a signal type for them (``te``, ``te_csv``, ``hma``)."""
    if format == "pdq":
        return "".join(f"{h}\n" for h, _q in rows), "text/plain; charset=utf-8", "txt"
    if format == "te":
        lines = [f"{SIGNAL_PDQ} {h}\n" for h, _q in rows] + [f"{SIGNAL_VPDQ} {v}\n" for v in videos]
        return "".join(lines), "text/plain; charset=utf-8", "txt"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if format == "csv":
        writer.writerow(["pdq_hex", "quality"])
        writer.writerows(rows)
        return out.getvalue(), "text/csv; charset=utf-8", "csv"
    if format == "te_csv":
        writer.writerow(TE_CSV_HEADER)
        # POSITIVE_CLASS: each hash is of an image a caseworker confirmed as the person's.
        writer.writerows([SIGNAL_PDQ, h, collab, "POSITIVE_CLASS", ""] for h, _q in rows)
        writer.writerows([SIGNAL_VPDQ, v, collab, "POSITIVE_CLASS", ""] for v in videos)
        return out.getvalue(), "text/csv; charset=utf-8", "csv"
    if format == "hma":
        body = json.dumps([{SIGNAL_PDQ: h} for h, _q in rows] + [{SIGNAL_VPDQ: v} for v in videos])
        return body, "application/json", "json"
    if format == "stopncii":
        signals = [{"signalType": "ImagePDQ", "hashValue": h, "quality": q} for h, q in rows]
        return json.dumps({"signals": signals}), "application/json", "json"
    payload = {"hashes": [{"pdq": h, "quality": q} for h, q in rows]}
    return json.dumps(payload), "application/json", "json"


@dataclass
class ListImport:
    created: list[Reference]
    already_present: int
    skipped: list[str]


def case_hash_list_import(*, case: Case, actor: User | None, parsed: ParsedList) -> ListImport:
    """The list's PDQ hashes become references of the case, through the same import as every other
    hash: they match and are erased like hashes made in Jium. Its vPDQ signals become reference
    videos (after the PDQ hashes: a video whose best frame is already a reference of the case is
    attached to it); one that cannot be read is listed under ``skipped`` with its reason."""
    from app.cases.services.videos import reference_import_video_hashes

    unique = dict(reversed(parsed.hashes))  # the first quality given for a hash wins
    hashes = [(h, unique[h]) for h in dict.fromkeys(h for h, _q in parsed.hashes)]
    created = reference_import_pdq(case=case, actor=actor, hashes=hashes, audit_action="hashlist.import")
    already = len(hashes) - len(created)
    skipped = list(parsed.skipped)
    # Set-wise: a list can hold thousands of videos (one transaction per batch, not per video).
    videos = reference_import_video_hashes(case=case, actor=actor, signals=parsed.videos)
    created.extend(videos.created)
    already += videos.already_present
    skipped.extend(_("%(where)s: %(reason)s") % {"where": w, "reason": r} for w, r in videos.skipped)
    return ListImport(created=created, already_present=already, skipped=skipped)


_TE_LINE = re.compile(r"^\s*([a-z][a-z0-9_]*\s+[0-9a-fA-F]{16,}(\s|$)|vpdq\s+\[)", re.M)


def hash_list_sniff(text: str) -> str | None:
    """``te``, ``te_csv``, ``hma`` or ``stopncii`` when a pasted or uploaded list is plainly in that shape; None
    for everything Jium's own hash import reads (hashes per line, CSV, JSON lists of hashes)."""
    stripped = text.strip()
    first = stripped.split("\n", 1)[0].lower()
    if "signal_type" in first and "signal_str" in first:
        return "te_csv"
    if stripped[:1] in ("[", "{"):
        try:
            payload = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError):
            return None
        if isinstance(payload, dict) and isinstance(payload.get("signals"), list):
            return "stopncii"  # {"signals": [{"signalType", "hashValue"}]}
        items = payload if isinstance(payload, list) else [payload]
        # Bank content records, or POST bodies with a video hash (Jium's own JSON has no "vpdq").
        if any(isinstance(i, dict) and ("signals" in i or SIGNAL_VPDQ in i) for i in items):
            return "hma"
        return None
    if _TE_LINE.search(stripped):
        return "te"
    return None


def hash_list_parse_any(text: str) -> ParsedList:
    """Whatever shape the list has (see hash_list_sniff); entries that are not hashes under skipped."""
    fmt = hash_list_sniff(text)
    if fmt is None:
        return hash_list_parse_simple(content=text)
    return hash_list_parse(format=fmt, content=text)


def hash_list_import_text(*, case: Case, actor: User | None, text: str) -> tuple[list[Reference], list[str]]:
    """A list given in the web form, whatever its shape: ThreatExchange and HMA lists are read as
    such (signal types, false positives, disabled bank content), anything else by the hash import.
    Returns the new references and what was skipped."""
    fmt = hash_list_sniff(text)
    if fmt is None:
        return reference_import_hashes(case=case, actor=actor, text=text)
    result = case_hash_list_import(case=case, actor=actor, parsed=hash_list_parse(format=fmt, content=text))
    return result.created, result.skipped


def organization_hash_list_import(
    *,
    organization: Organization,
    actor: User | None,
    name: str,
    parsed: ParsedList,
    age_group: str = AgeGroup.ADULT,
) -> tuple[Case, ListImport]:
    """A hash list for the whole organisation lives in a case of its own, named after the list.

    A reference always belongs to a case: that is what matching, the NGO-wide index, erasure and
    who-may-see-what are built on. A list case is seen by whoever may see the organisation's cases;
    its hashes are in the NGO-wide index, so another case's link whose page shows one of them lists
    the list's case under "Images of other cases on this page"; URLs reported to it are checked
    against the whole list; erasing it erases the list. Nothing is created when the list holds no
    usable PDQ or vPDQ hash.
    """
    if not parsed.hashes and not parsed.videos:
        raise CaseInputError(_("No PDQ hashes were found in this file."))
    country = organization.country
    jurisdiction = country if country in Jurisdiction.values else Jurisdiction.OTHER
    with transaction.atomic():
        case = case_create(
            organization=organization,
            actor=actor,
            alias=name,
            jurisdiction=jurisdiction,
            age_group=age_group,
            kind=CaseKind.HASH_LIST,
        )
        result = case_hash_list_import(case=case, actor=actor, parsed=parsed)
        if not result.created:
            # Every video hash was unreadable: no empty list case (the transaction is undone).
            raise CaseInputError(
                "; ".join([_("No hash in this list could be imported."), *result.skipped[:5]])
            )
    return case, result
