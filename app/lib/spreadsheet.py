"""CSV that is safe to open in a spreadsheet (framework-free).

Cells can come from outside (platform names from reported hosts or RDAP holders). A spreadsheet
runs a cell that starts with ``= + - @``, a tab or a carriage return as a formula, so such text
cells get a leading apostrophe, which spreadsheets show as text (OWASP's advice). Numbers are
written as they are: a negative number is data, not a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_text(*, fieldnames: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    """A whole CSV document (header and rows), every text cell escaped; use for every CSV export."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fieldnames), extrasaction="ignore")
    writer.writerow({name: csv_cell(name) for name in fieldnames})
    for row in rows:
        writer.writerow({name: csv_cell(row.get(name, "")) for name in fieldnames})
    return buffer.getvalue()
