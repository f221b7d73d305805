"""Read an uploaded file as a table: find the header (after LinkedIn's notes), the delimiter
and every record with the line it starts on."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from email_validator import EmailNotValidError, validate_email

from campaigns.core.imports import vcard
from campaigns.core.imports.decode import SAVE_AS_CSV, decode
from campaigns.core.imports.mapping import is_email_header, normalise_header
from campaigns.errors import ValidationError

DELIMITERS = (",", ";", "\t", "|")
_HEADER_SEARCH = 30  # records scanned for the header row (LinkedIn puts notes first)


@dataclass(frozen=True)
class Record:
    """One record of the file: the line it starts on and its cells (or why it is unreadable)."""

    line: int
    cells: list[str]
    error: str = ""


@dataclass
class Table:
    """A file read as a header and records."""

    kind: str  # "csv" or "vcard"
    source: str  # "linkedin", "google", "outlook", "csv", "list" (no header) or "vcard"
    encoding: str
    delimiter: str
    header: list[str]
    header_line: int  # 0 when the file has no header row
    email_column: int | None = None  # known for header-less lists of addresses
    text: str = field(default="", repr=False)
    cards: list[Record] = field(default_factory=list, repr=False)

    def records(self) -> Iterator[Record]:
        """Yield the data records after the header, skipping blank lines."""
        if self.kind == "vcard":
            yield from self.cards
            return
        skip = self.header_line
        for record in _records(self.text, self.delimiter):
            if record.line <= skip or not any(c.strip() for c in record.cells) and \
                    not record.error:
                continue
            yield record

    def preview(self, count: int = 5) -> list[Record]:
        """Return the first records (for the mapping step)."""
        return list(islice(self.records(), count))


def read_table(data: bytes) -> Table:
    """Read a CSV or vCard file, or raise ValidationError explaining what is wrong with it."""
    text, encoding = decode(data)
    text = text.replace("\x00", "")
    if text.lstrip().upper().startswith("BEGIN:VCARD"):
        header, cards = vcard.read_cards(text)
        return Table("vcard", "vcard", encoding, "", header, 0, cards=cards)
    table = _read_csv(text, encoding)
    if next(table.records(), None) is None:
        raise ValidationError("The file has a header row but no rows to import.")
    return table


def _read_csv(text: str, encoding: str) -> Table:
    """Find the header row and delimiter of CSV text."""
    found = _find_header(text)
    if found:
        delimiter, header, line = found
        return Table("csv", _source(header), encoding, delimiter, header, line, text=text)
    delimiter = _count_delimiter(text)
    first = next((r for r in _records(text, delimiter) if any(c.strip() for c in r.cells)), None)
    if first is None:
        raise ValidationError("The file is empty: there is nothing to import.")
    email_column = _address_column(first.cells)
    if email_column is not None:  # a plain list of addresses, no header row
        header = [f"Column {i + 1}" for i in range(len(first.cells))]
        return Table("csv", "list", encoding, delimiter, header, first.line - 1,
                     email_column=email_column, text=text)
    _refuse_prose(first.cells, delimiter, text)
    return Table("csv", "csv", encoding, delimiter, [c.strip() for c in first.cells],
                 first.line, text=text)


def _records(text: str, delimiter: str) -> Iterator[Record]:
    """Yield every record with the line it starts on; malformed lines become error records."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 0
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise ValidationError(
                    f"Line {start}: a quote (\") opens a value that is never closed, so the "
                    f"rest of the file cannot be read. Fix that line and import again.") from exc
            line = reader.line_num
            yield Record(start, [], f"the line cannot be read as CSV ({exc})")
            continue
        line = reader.line_num
        yield Record(start, cells)


def _find_header(text: str) -> tuple[str, list[str], int] | None:
    """Return (delimiter, header, line) of the first row naming an email column, if any."""
    best: tuple[str, list[str], int] | None = None
    for delimiter in DELIMITERS:
        try:
            for record in islice(_records(text, delimiter), _HEADER_SEARCH):
                if any(is_email_header(cell) for cell in record.cells):
                    if best is None or len(record.cells) > len(best[1]):
                        best = (delimiter, [c.strip() for c in record.cells], record.line)
                    break
        except ValidationError:
            continue  # this delimiter reads the file wrongly; another may not
    return best


def _count_delimiter(text: str) -> str:
    """Pick the delimiter that appears most on the first non-empty line."""
    first_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    return max(DELIMITERS, key=first_line.count)


def _address_column(cells: list[str]) -> int | None:
    """Return the index of the first cell holding a valid email address, if any."""
    for index, cell in enumerate(cells):
        if "@" not in cell:
            continue
        try:
            validate_email(cell.strip(), check_deliverability=False)
        except EmailNotValidError:
            continue
        return index
    return None


def _refuse_prose(cells: list[str], delimiter: str, text: str) -> None:
    """Raise if the "header" is one long cell: the file is prose, not a table."""
    if len(cells) == 1 and delimiter not in text and len(cells[0]) > 80:
        raise ValidationError(f"This file does not look like a CSV (no columns found). "
                              f"{SAVE_AS_CSV}")


def _source(header: list[str]) -> str:
    """Name the export a header comes from, for the mapping step."""
    names = {normalise_header(h) for h in header}
    if {"connected on", "url"} <= names:
        return "linkedin"
    if "email 1 value" in names or "given name" in names:
        return "google"
    if "email address" in names and names & {"email display name", "email 2 address"}:
        return "outlook"
    return "csv"


SOURCE_LABELS = {
    "linkedin": "a LinkedIn Connections export", "google": "a Google Contacts export",
    "outlook": "an Outlook contacts export", "csv": "a CSV file",
    "list": "a list of addresses without a header row", "vcard": "vCard contacts",
}
