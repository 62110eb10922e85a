"""Exports of high-risk LSOA lists: CSV, Excel and GeoJSON, each with a metadata block.

Every string cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) gets a leading apostrophe (OWASP "CSV injection"), in every
format and in column headers too; numbers stay numbers. Line breaks inside text become spaces.

Reading a CSV export back
-------------------------
The file starts with one ``# key: value`` line per metadata item, then an ordinary CSV header
and rows. Use :func:`read_export_csv` (returns the metadata dict and the table, all cells as
text), or with pandas alone count the ``#`` lines and skip them::

    with open(path, encoding="utf-8") as f:
        n = sum(1 for line in f if line.startswith("# "))
    table = pd.read_csv(path, skiprows=n)

Do not use ``comment="#"``: it would also cut data cells at a ``#``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from profiler.codes import LAD_RE
from profiler.disclosure import DEFAULT_THRESHOLD, shown_value, suppressed_mask
from profiler.docs import attribution_texts
from profiler.engine import BANDS, THEME_LABELS, THEMES
from profiler.errors import ProfilerError
from profiler.spec import Spec
from profiler.text import INVISIBLE_RE, strip_invisible  # noqa: F401 (re-exported)

FORMATS = ("csv", "xlsx", "geojson")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_DISTRICT_RE = LAD_RE
CAVEAT = (
    "Risk levels are decision support, not a verdict on a place; professional judgement and "
    "partners' own data always come first. Built from open data (OGL v3.0); see PROVENANCE."
)
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}


_LINE_BREAKS = str.maketrans({"\r": " ", "\n": " ", "\u2028": " ", "\u2029": " "})
# A spreadsheet splits text at any of these (comma, semicolon locales, tab, pipe), and a quote may
# open the next cell: a formula prefix after one of them, spaces or quotes starts a new formula.
_AFTER_DELIMITER = re.compile(r"([,;\t|])([ \"]*)(?=[=+\-@\t])")


def neutralise(value: Any) -> Any:
    """Make text safe for a file or a screen: the one sanitiser for cells, names, labels, sources.

    Control characters (other than tab), bidi overrides and zero-width characters are dropped
    first, so that none can hide a formula prefix (a worksheet drops them and would leave the
    ``=`` first) or reverse what a person reads. Line breaks would split a CSV row (a lone CR is
    not quoted by the csv module), so they become spaces. A string that a spreadsheet would run
    as a formula, even after leading spaces (which some importers trim), gets a leading
    apostrophe; so does any piece after a delimiter (comma, semicolon, tab, pipe), spaces or
    quotes, since a spreadsheet reading the text with another delimiter would start a cell there.

    Parameters
    ----------
    value : object
        A cell value; anything but a string is returned as it is.

    Returns
    -------
    object
    """
    if not isinstance(value, str):
        return value
    value = strip_invisible(value).translate(_LINE_BREAKS)
    value = _AFTER_DELIMITER.sub(r"\1\2'", value)
    if value.lstrip(' "').startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def top_contributors(result: pd.DataFrame, spec: Spec, n: int = 3, sep: str = ", ") -> pd.Series:
    """Labels of the ``n`` indicators contributing most to each area's score.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`profiler.pipeline.score_scope`.
    spec : Spec
    n : int
        How many indicators to name.
    sep : str
        Separator between labels (a newline gives one per line in a table cell).

    Returns
    -------
    Series of str
        Labels, largest contribution first, joined by ``sep``, indexed like ``result``.
    """
    cols = [f"{i.id}_contribution" for i in spec.indicators]
    contrib = result[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    # a suppressed (missing) contribution is never named: it would hint at a small count
    contrib = np.where(np.isfinite(contrib), contrib, -np.inf)
    labels = np.array([i.label for i in spec.indicators], dtype=object)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :n]
    return pd.Series([sep.join(labels[row]) for row in order], index=result.index)


def build_metadata(
    spec: Spec,
    *,
    scope: str,
    reference: str,
    normalisation: str,
    banding: str,
    weights: Mapping[str, float] | None = None,
    generated_at: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Build the metadata block written with every export.

    Parameters
    ----------
    spec : Spec
        The spec used (its file hash and effective hash are recorded).
    scope, reference, normalisation, banding : str
        Method settings of the run.
    weights : mapping, optional
        Effective weights (default: the spec's).
    generated_at : datetime, optional
        Defaults to now (UTC).
    **extra
        Further key/value pairs (e.g. ``bands``, ``district``).

    Returns
    -------
    dict
        ``title``, ``generated_at`` (ISO 8601, UTC), ``spec_sha256`` (of the spec file),
        ``effective_spec_sha256`` (with the effective weights), method settings, ``weights``,
        ``data_periods``, ``sources``, ``licence``, ``attribution``, ``caveat`` (bands are
        decision support), then ``extra``. :func:`export_lsoas` adds ``rows``.
    """
    generated_at = generated_at or datetime.now(UTC)
    weights = dict(weights or spec.weights)
    meta: dict[str, Any] = {
        "title": spec.profile.name,
        "generated_at": generated_at.astimezone(UTC).isoformat(timespec="seconds"),
        "spec_sha256": spec.sha256,
        "effective_spec_sha256": spec.with_weights(weights).effective_sha256,
        "scope": scope,
        "reference": reference,
        "normalisation": normalisation,
        "banding": banding,
        "weights": ", ".join(f"{k}={v:g}" for k, v in weights.items()),
        "data_periods": "; ".join(f"{i.label}: {i.period}" for i in spec.indicators),
        "sources": "; ".join(sorted({i.source for i in spec.indicators})),
        "licence": "; ".join(sorted({i.licence for i in spec.indicators})),
        "attribution": "; ".join(attribution_texts()),
        "caveat": CAVEAT,
    }
    meta.update({k: v for k, v in extra.items() if v is not None})
    return meta


def export_frame(
    result: pd.DataFrame,
    spec: Spec,
    *,
    bands: Sequence[str] | None = None,
    district: str | None = None,
) -> pd.DataFrame:
    """Rows and readable columns of an export, before formatting.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`profiler.pipeline.score_scope`.
    spec : Spec
    bands : sequence of str, optional
        Keep these overall bands (default: all).
    district : str, optional
        Keep one district (LAD code).

    Returns
    -------
    DataFrame
    """
    if bands is not None:
        if isinstance(bands, str):
            bands = [b.strip() for b in bands.split(",")]
        bad = [b for b in bands if b not in BANDS]
        if bad:
            shown = ", ".join(repr(str(b)[:30]) for b in bad[:3])
            raise ProfilerError(f"export: unknown band(s) {shown}; use {', '.join(BANDS)}")
        if not bands:
            raise ProfilerError(f"export: no band chosen; use one or more of {', '.join(BANDS)}")
    if district is not None and not _DISTRICT_RE.fullmatch(str(district)):
        raise ProfilerError(
            f"export: district {str(district)[:30]!r} is not a district code; use e.g. E07000219"
        )
    rows = result
    if bands is not None:
        rows = rows[rows["band"].isin(list(bands))]
    if district is not None:
        rows = rows[rows["lad24_code"] == district]
    out = pd.DataFrame(
        {
            "LSOA code": rows["lsoa21_code"],
            "LSOA name": rows.get("lsoa21_name"),
            "MSOA name": rows.get("msoa21_hcl_name"),
            "Ward": rows.get("ward24_name"),
            "District": rows.get("lad24_name"),
            "Score": rows["score"].round(4),
            "Rank": rows["rank"],
            "Band": rows["band"],
        }
    )
    for theme in THEMES:
        if f"{theme}_band" in rows:
            out[f"{THEME_LABELS[theme]} band"] = rows[f"{theme}_band"]
    out["Top contributors"] = top_contributors(rows, spec) if len(rows) else []
    if "p_high" in rows:
        # from profiler.stability, when the caller merged it in
        out["P(High or above), 1,000 what-if profiles"] = rows["p_high"].round(3)
    threshold = result.attrs.get("disclosure_threshold", DEFAULT_THRESHOLD)
    for ind in spec.indicators:
        # suppressed partner counts travel as missing values with a flag: text only here
        hide = suppressed_mask(rows, ind.id)
        out[f"{ind.label}: value"] = shown_value(rows[f"{ind.id}_value"], hide,
                                                 threshold=threshold)
        for part, name in (("norm", "normalised"), ("contribution", "contribution")):
            values = pd.to_numeric(rows[f"{ind.id}_{part}"], errors="coerce").round(4)
            out[f"{ind.label}: {name}"] = shown_value(values, hide, is_count=False)
        out[f"{ind.label}: band"] = shown_value(rows[f"{ind.id}_band"], hide, is_count=False)
    out = out.reset_index(drop=True).map(neutralise)
    # headers come from spec labels, which a partner's spec may set to anything
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def table_bytes(frame: pd.DataFrame, meta: Mapping[str, Any], fmt: str,
                sheet: str = "Table") -> bytes:
    """CSV or Excel bytes of any readable table with its metadata block (the LSOA export's writers).

    Every cell and header is neutralised (:func:`neutralise`), as in the LSOA export.

    Parameters
    ----------
    frame : DataFrame
        Readable columns, one row per line of the table.
    meta : mapping
        The ``# key: value`` lines (CSV) or the About sheet (Excel).
    fmt : {"csv", "xlsx"}
    sheet : str
        The Excel sheet's name.
    """
    out = frame.reset_index(drop=True).map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    if fmt == "csv":
        return _csv(out, meta)
    if fmt == "xlsx":
        return _xlsx(out, meta, sheet=sheet)
    raise ProfilerError(f"export: format {str(fmt)[:20]!r}; use csv or xlsx")


def _csv(frame: pd.DataFrame, meta: Mapping[str, Any]) -> bytes:
    buf = io.StringIO()
    for key, value in meta.items():
        # a spreadsheet splits a "# key: value" line at its delimiters: neutralise every piece
        buf.write("# " + neutralise(f"{neutralise(str(key))}: {neutralise(str(value))}") + "\n")
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def _xlsx_text(value: Any) -> Any:
    # Control characters are not allowed in worksheets: drop them rather than fail the export.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _xlsx(frame: pd.DataFrame, meta: Mapping[str, Any], sheet: str = "LSOAs") -> bytes:
    frame = frame.map(_xlsx_text)
    meta = {k: _xlsx_text(str(v)) for k, v in meta.items()}
    buf = io.BytesIO()
    about = pd.DataFrame({"key": [neutralise(str(k)) for k in meta],
                          "value": [neutralise(str(v)) for v in meta.values()]})
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet, index=False)
        about.to_excel(writer, sheet_name="About", index=False)
        ws = writer.sheets[sheet]
        ws.freeze_panes = "B2"
        for cells in ws.iter_rows():
            for cell in cells:
                # openpyxl treats any string starting with "=" as a formula; keep text as text.
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    return buf.getvalue()


def _geojson(frame: pd.DataFrame, meta: Mapping[str, Any], boundaries) -> bytes:
    if boundaries is None:
        raise ProfilerError("export: GeoJSON needs the LSOA boundaries; pass boundaries=")
    geo = boundaries.set_index("lsoa21_code").geometry
    missing = [c for c in frame["LSOA code"] if c not in geo.index]
    if missing:
        raise ProfilerError(
            f"export: no boundary for {len(missing)} LSOA(s), first {missing[:3]}; use the "
            "boundaries of the same scope"
        )
    import shapely

    features = []
    records = json.loads(frame.to_json(orient="records", double_precision=6))
    for record in records:
        geom = shapely.set_precision(geo.loc[record["LSOA code"]], 1e-5)
        features.append({"type": "Feature", "properties": record,
                         "geometry": json.loads(shapely.to_geojson(geom))})
    meta = {neutralise(str(k)): neutralise(v) for k, v in meta.items()}
    doc = {"type": "FeatureCollection", "metadata": meta, "features": features}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def export_lsoas(
    result: pd.DataFrame,
    spec: Spec,
    *,
    fmt: str,
    bands: Sequence[str] | None = None,
    district: str | None = None,
    boundaries=None,
    meta: Mapping[str, Any] | None = None,
) -> bytes:
    """Serialise the LSOAs in the chosen bands (and district) with a metadata block.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`profiler.pipeline.score_scope`.
    spec : Spec
    fmt : {"csv", "xlsx", "geojson"}
        CSV: ``# key: value`` lines, then the table (read it back with
        :func:`read_export_csv`). XLSX: sheet ``LSOAs`` and sheet ``About``. GeoJSON: a
        FeatureCollection with a top-level ``metadata`` member.
    bands : sequence of str, optional
    district : str, optional
    boundaries : GeoDataFrame, optional
        Needed for GeoJSON (``lsoa21_code`` and geometry, EPSG:4326).
    meta : mapping, optional
        From :func:`build_metadata`.

    Returns
    -------
    bytes
    """
    if fmt not in FORMATS:
        raise ProfilerError(f"export: format {fmt!r}; use one of {', '.join(FORMATS)}")
    frame = export_frame(result, spec, bands=bands, district=district)
    meta = {**(meta or {}), "rows": len(frame)}
    if bands is not None:
        meta.setdefault("bands", ", ".join(bands))
    if district is not None:
        meta.setdefault("district", district)
    if fmt == "csv":
        return _csv(frame, meta)
    if fmt == "xlsx":
        return _xlsx(frame, meta)
    return _geojson(frame, meta, boundaries)


def read_export_csv(source) -> tuple[dict[str, str], pd.DataFrame]:
    """Read a CSV export back: its metadata block and its table.

    Parameters
    ----------
    source : path, bytes or file-like

    Returns
    -------
    (dict, DataFrame)
    """
    if isinstance(source, bytes):
        text = source.decode("utf-8")
    elif hasattr(source, "read"):
        text = source.read()
        text = text.decode("utf-8") if isinstance(text, bytes) else text
    else:
        with open(source, encoding="utf-8") as fh:
            text = fh.read()
    lines = text.split("\n")
    meta = {}
    n = 0
    while n < len(lines) and lines[n].startswith("# "):
        key, _, value = lines[n][2:].partition(": ")
        meta[key] = value
        n += 1
    frame = pd.read_csv(io.StringIO("\n".join(lines[n:])), dtype=str, keep_default_na=False)
    return meta, frame
