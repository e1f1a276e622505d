"""The fast path for large CSV exports: pyarrow reads every column as text in parallel, and each
field is converted column-at-a-time.

It is all or nothing: when the file has anything the careful row-by-row reader handles better (an
encoding other than UTF-8, quoted line breaks, blank lines, a value that does not convert), the fast
path returns None and the row reader runs, so rejected rows are always reported with their line.
Both paths produce the same canonical frame (tested).
"""

from __future__ import annotations

from pathlib import Path

BLANKS = [""]  # an empty cell; 'None', 'N/A', '-' are text (base.is_blank)
FAST_PATH_BYTES = 512 * 1024  # below this the row reader is as fast and simpler


def text_columns(path: Path, header: list[str], wanted: list[str], typed: tuple[str, ...] = ()):
    """{column: pyarrow string array (trimmed, blanks as null)} for the wanted columns present,
    or None for the careful path. Columns in `typed` are left untrimmed: they are converted next,
    and a value with stray spaces fails that conversion and sends the file to the row reader."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if len(set(header)) != len(header):
        return None
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\r\n\r\n" in data or b"\n\n" in data:
        return None
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=True,
                null_values=BLANKS, include_columns=[w for w in wanted if w in header]),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if table.num_rows + 1 != lines:
        return None  # quoted line breaks or blank lines: row numbers need the careful path
    blanks = pa.array(BLANKS)
    out = {}
    for name in table.column_names:
        col = table.column(name)
        # blank tokens are already null (null_values); trimmed cells may become blank ones
        if name not in typed:
            trimmed = pc.utf8_trim_whitespace(col)
            if pc.any(pc.not_equal(pc.binary_length(col), pc.binary_length(trimmed))).as_py():
                col = pc.if_else(pc.is_in(trimmed, value_set=blanks), pa.scalar(None, pa.string()),
                                 trimmed)
        out[name] = col
    return out


def instants(arr):
    """A text column of ISO 8601 timestamps with offsets as UTC microseconds; None if any fails."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(arr, pa.timestamp("us", "UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def numbers(arr):
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def to_pandas_text(arr):
    """A pyarrow string array as a pandas 'string' Series, without copying through objects."""
    import pandas as pd

    return pd.Series(pd.arrays.ArrowStringArray(arr))


def line_labels(name: str, n: int):
    """'<file>:<line>' for data rows 2..n+1, as a pandas 'string' Series."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    numbers = pc.cast(pa.array(np.arange(2, n + 2)), pa.string())
    return to_pandas_text(pc.binary_join_element_wise(name, numbers, ":"))


def frame(n: int, columns: dict):
    """A canonical frame from finished columns: Series are used as they are, scalars repeated,
    absent canonical columns are all-missing with their own dtype (no per-cell conversion)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from ..incidents import INCIDENT_COLUMNS

    index = pd.RangeIndex(n)
    data = {}
    for name, dtype in INCIDENT_COLUMNS.items():
        value = columns.get(name)
        if isinstance(value, pd.Series):
            value = value.reset_index(drop=True)
            data[name] = value if str(value.dtype) == dtype else value.astype(dtype)
        elif dtype == "string":
            arr = pa.nulls(n, pa.string()) if value is None else pa.repeat(pa.scalar(value), n)
            data[name] = to_pandas_text(arr)
        elif dtype.startswith("datetime64") and value is None:
            data[name] = pd.Series(pa.nulls(n, pa.timestamp("us", "UTC")).to_pandas())
        elif dtype == "Int64" and value is None:
            data[name] = pd.Series(pd.arrays.IntegerArray(np.zeros(n, "int64"), np.ones(n, bool)))
        elif dtype == "Float64" and value is None:
            data[name] = pd.Series(pd.arrays.FloatingArray(np.zeros(n), np.ones(n, bool)))
        else:
            data[name] = pd.Series(value, index=index, dtype=dtype)
    return pd.DataFrame(data, index=index, copy=False)
