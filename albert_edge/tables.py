"""Reading the user's text and labelled tables, with one set of rules and errors that name the file and the line.

Every reader of user data goes through here: `finetune` (training/dev TSV), `export` (`--eval-data`,
`--calibration`), `pipeline evaluate`, `tokenizer train` (text and TSV inputs).

Rules, the same for all of them:
- Text is UTF-8 (a BOM is dropped); a `.gz` name means gzip. A byte that is not UTF-8 is an error naming the file,
  the line and the byte offset in that line.
- A `.csv` file is comma-separated with CSV quoting; any other name is tab-separated with no quoting (GLUE's TSV).
- The first row is a header when it names every required column; columns are then found by name, and a row too
  short for them is an error naming its line.
- A first row that names some of the columns but not all is a header missing a column: an error naming it.
- Without a header, a table may still be read by position when the caller allows it (`positional`, e.g.
  `sentence<TAB>label`): every row must then have exactly that many fields (optional trailing columns may be
  left out), so a 3-column file without a header is refused instead of silently taking one of its columns.
- Blank lines are skipped (and, in plain text, they are kept by `read_documents` in `data.py`, which needs them).
"""

from __future__ import annotations

import csv
import gzip
import os
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from albert_edge.files import AlbertEdgeError


class DataFileError(AlbertEdgeError):
    """A data file that cannot be used as given; the message names the file (and the line) and the fix."""


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line number in the file
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values[column]


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def iter_lines(path: str | os.PathLike, what: str = "data") -> Iterator[tuple[int, str]]:
    """(line number, text without its line end) for every line of a UTF-8 text file, `.gz` allowed."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{what} file {path}: no such file")
    try:
        with _open_binary(path) as f:
            for number, raw in enumerate(f, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise DataFileError(f"{path}:{number}: not UTF-8 text (byte {e.start + 1} of the line is "
                                        f"0x{raw[e.start]:02x}); convert the file to UTF-8") from None
                if number == 1:
                    text = text.removeprefix("\ufeff")
                yield number, text.rstrip("\r\n")
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise DataFileError(f"{path}: not a readable gzip file ({e}); decompress it or fix the name") from None


def read_lines(path: str | os.PathLike, what: str = "data", comments: bool = False) -> list[str]:
    """Non-blank lines, stripped; with `comments`, lines starting with # are skipped too."""
    return [text.strip() for _, text in iter_lines(path, what)
            if text.strip() and not (comments and text.lstrip().startswith("#"))]


def _split(path: Path, lines: Iterator[tuple[int, str]]) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows of fields with their line numbers. TSV lines split on tabs (no quoting: one row per line);
    CSV goes through `csv`, whose quoted fields may span lines (the row then carries the line it ends on)."""
    if not path.name.lower().endswith((".csv", ".csv.gz")):
        for number, text in lines:
            if text.strip():
                yield number, text.split("\t")
        return
    numbered = list(lines)
    reader = csv.reader(text + "\n" for _, text in numbered)
    for row in reader:
        if any(cell.strip() for cell in row):
            yield numbered[reader.line_num - 1][0], row


def _names(column: str) -> list[str]:
    """`"sentence|text"`: a column that may be headed by either name."""
    return column.split("|")


def iter_table(path: str | os.PathLike, required: Sequence[str], optional: Sequence[str] = (),
               positional: Sequence[str] | None = None, what: str = "data") -> Iterator[Row]:
    """Rows of a TSV/CSV table as `Row`s keyed by the first name of each column (see the module's rules).

    `required`/`optional`: column names, `"a|b"` for a column with two accepted header names. `positional`: the
    column order of a file without a header (None: a header is required).
    """
    path = Path(path)
    rows = _split(path, iter_lines(path, what))
    first = next(rows, None)
    if first is None:
        raise DataFileError(f"{what} file {path} has no rows; it needs "
                            + ("a header row and examples" if positional is None else "`" + "<TAB>".join(positional)
                               + "` lines"))
    line, header = first
    header = [cell.strip() for cell in header]
    wanted = list(required) + list(optional)
    if all(any(n in header for n in _names(c)) for c in required):
        index = {}
        for column in wanted:
            found = [header.index(n) for n in _names(column) if n in header]
            if found:
                index[_names(column)[0]] = found[0]
        width = max(index.values()) + 1
        for number, fields in rows:
            if len(fields) < width:
                raise DataFileError(f"{path}:{number}: {len(fields)} field(s), but its header {header} needs "
                                    f"{width} for column(s) {list(index)}")
            yield Row(number, {name: fields[i] for name, i in index.items()})
        return
    named = [c for c in wanted if any(n in header for n in _names(c))]
    if positional is None or named:
        missing = next(c for c in required if not any(n in header for n in _names(c)))
        what_it_is = f"its header is {header[:6]}" if named else f"its first row {header[:6]} is not a header"
        raise DataFileError(f"{path} has no column {_names(missing)[0]!r}; {what_it_is} (it needs "
                            f"{[_names(c)[0] for c in required]})")
    names = [_names(c)[0] for c in positional]
    least = len([c for c in positional if c not in optional])
    for number, fields in [(line, first[1])] + list(rows):
        if not least <= len(fields) <= len(names):
            raise DataFileError(
                f"{path}:{number}: {len(fields)} field(s); a file without a header row has "
                + (f"exactly {len(names)}" if least == len(names) else f"{least} to {len(names)}")
                + f" ({'<TAB>'.join(names)}); add a header row naming the columns (e.g. "
                + "\\t".join(names) + ")")
        yield Row(number, dict(zip(names, fields)))


def read_table(path: str | os.PathLike, required: Sequence[str], optional: Sequence[str] = (),
               positional: Sequence[str] | None = None, what: str = "data") -> list[Row]:
    """`iter_table` as a list; a table with no example rows is an error."""
    rows = list(iter_table(path, required, optional, positional, what))
    if not rows:
        raise DataFileError(f"{what} file {path} has a header but no examples")
    return rows


def label_id(raw: str, where: str, labels: Mapping[int, str] | Sequence[str] | None = None) -> int:
    """A class id from a table cell: an integer in 0..len(labels)-1 or one of the label names (`labels` as a
    model's id2label or as names in id order); any non-negative integer when `labels` is None. `where`
    ("FILE:LINE") starts the error."""
    ids = dict(labels) if isinstance(labels, Mapping) else dict(enumerate(labels or ()))
    names = {str(name): int(i) for i, name in ids.items()}
    text = raw.strip()
    if text in names:
        return names[text]
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is not None and value >= 0 and (not ids or value < len(ids)):
        return value
    allowed = f"an integer 0..{len(ids) - 1}" if ids else "a non-negative integer class id"
    if names:
        allowed += f" or one of {sorted(names)}"
    raise DataFileError(f"{where}: label {raw!r} is not {allowed}")
