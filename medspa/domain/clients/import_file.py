"""Reading a client list exported from another system: CSV (any of the usual encodings and
separators) or XLSX, into header + rows of text (issue 14 part 4).

- Encoding: a UTF-8 byte-order mark -> UTF-8 (the mark dropped); else strict UTF-8 when the
  bytes decode as UTF-8; else Windows-1252 (what Excel on Windows writes for "CSV"; every byte
  decodes, so nothing is read two ways). The encoding found is reported to the user.
- Separator: `,` `;` or tab, by csv.Sniffer over the first lines, else the one that splits the
  header line into the most columns (a one-column file is read with `,`).
- XLSX: the first worksheet, read with openpyxl (read-only, values only); dates stay dates
  (written ISO), numbers that are whole are written without ".0" (phone numbers typed as
  numbers).
Cells are kept exactly as they are (names byte-exact), only the header names are trimmed.
Limits (MAX_BYTES, MAX_ROWS, MAX_COLUMNS) bound the memory a file can take.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from medspa.domain.errors import ValidationFailed

MAX_BYTES = 10 * 1024 * 1024
MAX_XLSX_UNPACKED = 200 * 1024 * 1024  # what a workbook's zip may unpack to (a 20,000-row sheet: a few MB)
MAX_ROWS = 20_000
MAX_COLUMNS = 60
SEPARATORS = (",", ";", "\t")
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "xlsx": "Excel workbook"}


@dataclass(frozen=True)
class ImportTable:
    """A file read as text: `headers` (trimmed), `rows` (each as long as headers: short rows
    padded with "", extra cells dropped after a check that they are empty; blank lines left
    out), the `encoding` found ("utf-8-sig", "utf-8", "cp1252" or "xlsx") and the `separator`
    ("," ";" "\\t" or "xlsx"). `lines[n]` is the line (the sheet's row) rows[n] starts on, as
    the user finds it in the file (the header is line 1); empty: n + 2."""

    headers: list[str]
    rows: list[list[str]]
    encoding: str
    separator: str
    lines: list[int] = field(default_factory=list)

    def line_of(self, n: int) -> int:
        """The file's line of rows[n]."""
        return self.lines[n] if n < len(self.lines) else n + 2


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of CSV bytes: UTF-8 with a byte-order mark, strict UTF-8, else
    Windows-1252. Raises ValidationFailed({"file": ...}) for bytes that are no text (NUL)."""
    if b"\x00" in data[:4096]:
        raise ValidationFailed({"file": "This file is not a CSV text file (UTF-16 or binary): save it as CSV UTF-8"})
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8", errors="strict"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def sniff_separator(text: str) -> str:
    """The separator of CSV `text`: csv.Sniffer over the first lines among `,` `;` tab, else
    the one that splits the first line into the most fields (`,` on a tie)."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        first = text.splitlines()[0] if text else ""
        return max(SEPARATORS, key=lambda sep: (first.count(sep), sep == ","))


def _table(headers: list[str], body: list[tuple[int, list[str]]], encoding: str, separator: str) -> ImportTable:
    """The table of a header and (line, cells) pairs: blank lines dropped, rows checked."""
    headers = [h.strip() for h in headers]
    while headers and not headers[-1]:
        headers.pop()
    if not headers or not any(headers):
        raise ValidationFailed({"file": "The first line must name the columns (see the template)"})
    if len(headers) > MAX_COLUMNS:
        raise ValidationFailed({"file": f"At most {MAX_COLUMNS} columns"})
    rows: list[list[str]] = []
    lines: list[int] = []
    for line, cells in body:
        if not any(c.strip() for c in cells):
            continue  # a blank line
        extra = cells[len(headers):]
        if any(c.strip() for c in extra):
            raise ValidationFailed({"file": f"Line {line} has more cells than the header has columns"})
        rows.append((cells + [""] * len(headers))[:len(headers)])
        lines.append(line)
        if len(rows) > MAX_ROWS:
            raise ValidationFailed({"file": f"At most {MAX_ROWS:,} clients per file: split it"})
    if not rows:
        raise ValidationFailed({"file": "The file has a header but no clients"})
    return ImportTable(headers, rows, encoding, separator, lines)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(data: bytes) -> ImportTable:
    """The first worksheet of an XLSX workbook. Raises ValidationFailed for a file openpyxl
    cannot open."""
    from openpyxl import load_workbook  # imported on use: only imports need it

    try:  # openpyxl reads some parts whole (shared strings): bound what the zip unpacks to first
        unpacked = sum(item.file_size for item in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ValidationFailed({"file": "This Excel file cannot be opened: save it again as .xlsx or as CSV"}) from exc
    if unpacked > MAX_XLSX_UNPACKED:
        raise ValidationFailed({"file": "This Excel file unpacks to more than "
                                        f"{MAX_XLSX_UNPACKED // (1024 * 1024)} MB: save it as CSV"})
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException...: all "not a workbook"
        raise ValidationFailed({"file": "This Excel file cannot be opened: save it again as .xlsx or as CSV"}) from exc
    try:
        sheet = book.worksheets[0]
        lines: list[tuple[int, list[str]]] = []  # (sheet row, cells) of the rows with a value
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values][:MAX_COLUMNS + 1]
            if not any(c.strip() for c in cells):
                continue  # empty or formatting only: Excel keeps such rows far below the data
            lines.append((number, cells))
            if len(lines) > MAX_ROWS + 1:
                raise ValidationFailed({"file": f"At most {MAX_ROWS:,} clients per file: split it"})
    finally:
        book.close()
    if not lines:
        raise ValidationFailed({"file": "The workbook's first sheet is empty"})
    return _table(lines[0][1], lines[1:], "xlsx", "xlsx")


def read_import_file(data: bytes, filename: str) -> ImportTable:
    """A client file as an ImportTable: .xlsx by its name (or its zip signature), else CSV.
    Raises ValidationFailed({"file": reason}) for an empty, too large, unreadable or
    malformed file."""
    if not data:
        raise ValidationFailed({"file": "The file is empty"})
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"file": f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it"})
    if filename.lower().endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
        return read_xlsx(data)
    if filename.lower().endswith(".xls"):
        raise ValidationFailed({"file": "Old .xls workbooks are not read: save it as .xlsx or CSV"})
    text, encoding = decode_text(data)
    separator = sniff_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    lines: list[tuple[int, list[str]]] = []  # (the line a record starts on, its cells)
    try:
        ended = 0
        for cells in reader:
            lines.append((ended + 1, cells))
            ended = reader.line_num  # a quoted cell may span lines: the next record starts after it
    except csv.Error as exc:
        raise ValidationFailed({"file": f"This CSV file is malformed ({exc})"}) from exc
    if not lines:
        raise ValidationFailed({"file": "The file is empty"})
    return _table(lines[0][1], lines[1:], encoding, separator)
