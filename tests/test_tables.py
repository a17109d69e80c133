"""The one reader of user tables and text (`albert_edge/tables.py`): its rules, and errors that name file and line."""

import gzip

import pytest

from albert_edge.tables import (
    DataFileError,
    iter_lines,
    label_id,
    read_lines,
    read_table,
)

SST2 = ("sentence", "label")


def _file(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def test_header_is_found_by_name_and_blank_lines_skipped(tmp_path):
    path = _file(tmp_path, "a.tsv", "label\tsentence\n1\ta fine film \n\n0\tdull\n")
    rows = read_table(path, SST2, positional=SST2)
    assert [(r.line, r["sentence"], r["label"]) for r in rows] == [(2, "a fine film ", "1"), (4, "dull", "0")]


def test_headerless_two_columns_by_position(tmp_path):
    rows = read_table(_file(tmp_path, "b.tsv", "good\t1\nbad\t0\n"), SST2, positional=SST2)
    assert [(r.line, r["sentence"], r["label"]) for r in rows] == [(1, "good", "1"), (2, "bad", "0")]


def test_headerless_three_columns_are_refused_not_guessed(tmp_path):
    # The old eval-data reader took the last column as the label here.
    with pytest.raises(DataFileError, match=r"b.tsv:1: 3 field\(s\); a file without a header row has exactly 2"):
        read_table(_file(tmp_path, "b.tsv", "good\tfilm\t1\n"), SST2, positional=SST2)
    with pytest.raises(DataFileError, match=r"b.tsv:2: 3 field"):
        read_table(_file(tmp_path, "b.tsv", "good\t1\ngood\tfilm\t1\n"), SST2, positional=SST2)


def test_a_header_missing_a_column_is_named(tmp_path):
    with pytest.raises(DataFileError, match=r"no column 'sentence'; its header is \['text', 'label'\]"):
        read_table(_file(tmp_path, "c.tsv", "text\tlabel\ngood\t1\n"), SST2, positional=SST2)
    # ... unless the caller accepts that name too.
    rows = read_table(_file(tmp_path, "c.tsv", "text\tlabel\ngood\t1\n"), ["sentence|text", "label"])
    assert rows[0]["sentence"] == "good"


def test_short_rows_name_their_line(tmp_path):
    with pytest.raises(DataFileError, match=r"d.tsv:3: 1 field\(s\), but its header"):
        read_table(_file(tmp_path, "d.tsv", "sentence\tlabel\nok\t1\nno label here\n"), SST2)


def test_csv_quoting_and_gzip(tmp_path):
    rows = read_table(_file(tmp_path, "e.csv", 'sentence,label\n"great, really\nsaid twice",1\n'), SST2)
    assert rows[0]["sentence"] == "great, really\nsaid twice" and rows[0].line == 3
    path = tmp_path / "f.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("sentence\tlabel\nzipped\t0\n")
    assert read_table(path, SST2)[0]["sentence"] == "zipped"


def test_encoding_errors_name_file_line_and_byte(tmp_path):
    path = _file(tmp_path, "g.tsv", b"sentence\tlabel\nok\t1\nb\xe9d\t0\n")
    with pytest.raises(DataFileError, match=r"g.tsv:3: not UTF-8 text \(byte 2 of the line is 0xe9\)"):
        read_table(path, SST2)
    bom = _file(tmp_path, "h.txt", "\ufefffirst\n  \nsecond\n")
    assert read_lines(bom) == ["first", "second"]
    assert list(iter_lines(bom)) == [(1, "first"), (2, "  "), (3, "second")]


@pytest.mark.parametrize("data, message", [
    (None, "no such file"),
    ("", "has no rows"),
    ("sentence\tlabel\n", "has a header but no examples"),
    (b"\x1f\x8b\x08\x00garbage", "not a readable gzip file"),
])
def test_empty_missing_and_broken_files(tmp_path, data, message):
    path = tmp_path / "x.tsv.gz" if isinstance(data, bytes) else tmp_path / "x.tsv"
    if data is not None:
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    with pytest.raises(DataFileError, match=message):
        read_table(path, SST2, positional=SST2)


def test_labels_are_ids_in_range_or_names():
    assert label_id(" 1 ", "f:2", ["negative", "positive"]) == 1
    assert label_id("positive", "f:2", {0: "negative", 1: "positive"}) == 1  # a model's id2label
    assert label_id("7", "f:2") == 7  # no labels: any class id
    for raw, message in [("2", r"f:2: label '2' is not an integer 0..1"), ("-1", "not an integer 0..1"),
                         ("1.0", "not an integer"), ("pos", r"or one of \['negative', 'positive'\]")]:
        with pytest.raises(DataFileError, match=message):
            label_id(raw, "f:2", ["negative", "positive"])
