"""Turn an uploaded file's bytes into text: refuse what is not text, guess the encoding."""

from __future__ import annotations

import codecs

from campaigns.errors import ValidationError

# Leading bytes of files people upload by mistake, and what to tell them.
_NOT_TEXT = (
    (b"PK\x03\x04", "a spreadsheet or zip archive (XLSX, ODS, Numbers or ZIP)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel or Word file (XLS/DOC)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "an image (PNG)"),
    (b"\xff\xd8\xff", "an image (JPEG)"),
    (b"GIF8", "an image (GIF)"),
    (b"\x1f\x8b", "a compressed file (gzip)"),
)
SAVE_AS_CSV = "Open it in your spreadsheet and save or export it as CSV, then import that file."


def decode(data: bytes) -> tuple[str, str]:
    """Return the text of a file and the encoding it was read with, or raise ValidationError."""
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ValidationError("The file is empty: there is nothing to import.")
    if data.startswith(codecs.BOM_UTF8):
        return _utf8_or_windows(data[len(codecs.BOM_UTF8):], "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_strict(data, "utf-16"), "utf-16"
    bare_utf16 = _bare_utf16(data)
    if bare_utf16:
        return _decode_strict(data, bare_utf16), bare_utf16
    _refuse_binary(data)
    return _utf8_or_windows(data, "utf-8")


def _utf8_or_windows(data: bytes, label: str) -> tuple[str, str]:
    """Decode as UTF-8; a file that is not UTF-8 is read as Windows-1252 (Excel's default)."""
    try:
        return data.decode("utf-8"), label
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "iso-8859-1"  # cp1252 leaves five bytes undefined


def _decode_strict(data: bytes, encoding: str) -> str:
    """Decode or explain that the file is not text in that encoding."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValidationError(f"The file looks like {encoding.upper()} text but cannot be read "
                              f"as such. {SAVE_AS_CSV}") from exc
    return text.removeprefix("\ufeff")


def _bare_utf16(data: bytes) -> str:
    """Return "utf-16-le"/"utf-16-be" for UTF-16 text without a byte order mark, else ""."""
    sample = data[:4000]
    if len(sample) < 4 or len(sample) % 2:
        return ""
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if odd_nuls > half * 0.6 and even_nuls == 0:
        return "utf-16-le"
    if even_nuls > half * 0.6 and odd_nuls == 0:
        return "utf-16-be"
    return ""


def _refuse_binary(data: bytes) -> None:
    """Raise a clear error for a file that is not text (a workbook, a PDF, an image...)."""
    for magic, what in _NOT_TEXT:
        if data.startswith(magic):
            raise ValidationError(f"This file is {what}, not a CSV. {SAVE_AS_CSV}")
    sample = data[:8000]
    controls = sum(1 for byte in sample if byte < 9 or 13 < byte < 32)
    if b"\x00" in sample or controls > len(sample) * 0.05:
        raise ValidationError(f"This file is not a CSV or vCard (it holds binary data). "
                              f"{SAVE_AS_CSV}")
