"""Exports of high-risk LSOA lists: CSV, Excel and GeoJSON, each with a metadata block.

Every string cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) gets a leading apostrophe (OWASP "CSV injection"), in every
format and in column headers too; numbers stay numbers. Line breaks inside text become spaces.

Headers are written for a board paper: the words of :data:`HEADERS` (declared once) filled in
from the spec's indicator labels and units, with the rank in the exported scope first (a
district export ranks within the district) and the home area's rank as a second, named column.

Reading a CSV export back
-------------------------
The CSV's first line is its header, so any spreadsheet, GIS or partner system reads it as it
is (``pd.read_csv(path)``). Its metadata travels beside it: ``fmt="csv.zip"`` (what the
dashboard's CSV button sends) is a zip of the CSV and ``<name>-about.txt``, the same plain-words
description as the Excel About sheet (:func:`about_sections`), ending with one ``key: value``
line per metadata item. A zip rather than a lone CSV because the Open Government Licence asks
for the attribution to travel with the data, and a second download would be lost. Use
:func:`read_export_csv` on a zip, a CSV with its ``-about.txt`` beside it, or an older CSV
with ``# key: value`` lines (returns the metadata dict and the table, all cells as text).
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
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

FORMATS = ("csv", "csv.zip", "xlsx", "geojson")
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
    "csv.zip": "application/zip",
}

#: The words of every export column header, declared once: ``{scope}``, ``{home}``, ``{theme}``,
#: ``{label}`` and ``{unit}`` are filled in per export (units from the spec).
HEADERS = {
    "lsoa21_code": "LSOA code",
    "lsoa21_name": "LSOA name",
    "msoa21_hcl_name": "Neighbourhood (MSOA name)",
    "ward24_name": "Ward",
    "lad24_name": "District",
    "band": "Risk level",
    "score": "Risk score (weighted mean of normalised indicators)",
    "rank": "Rank in {scope} (1 = highest score)",
    "home_rank": "Rank in {home} (1 = highest score)",
    "theme_band": "{theme} risk level",
    "drivers": "Top 3 contributing indicators",
    "p_high": "Chance of High or above (share of 1,000 what-if profiles)",
    "value": "{label} ({unit})",
    "norm": "{label}: normalised value (score units)",
    "contribution": "{label}: contribution to score (score units)",
    "ind_band": "{label}: risk level",
}
#: How each kind of column is shown in Excel: number format, width (characters), grouped
#: (folded away under the indicator values: the score breakdown an analyst may open).
COLUMN_KINDS = {
    "code": ("@", 11, False), "text": ("@", 24, False), "band": ("@", 10, False),
    "score": ("0.00", 12, False), "rank": ("0", 10, False), "share": ("0%", 14, False),
    "drivers": ("@", 44, False), "value": ("0.0", 14, False), "norm": ("0.000", 12, True),
    "contribution": ("0.000", 12, True), "ind_band": ("@", 10, True),
}
NORMALISATION_WORDS = {
    "zscore": "turned into a z-score (how many standard deviations it is above the reference "
              "average)",
    "minmax": "rescaled from 0 (the lowest in the reference) to 1 (the highest)",
    "rank": "turned into its percentile rank within the reference",
    "exponential": "ranked within the reference and spread on an exponential scale, so the "
                   "highest values count most",
}
BANDING_WORDS = {
    "stddev": "by standard deviations of the score: Very High more than 2 above the mean, High "
              "1 to 2 above, Medium within 1, Low and Very Low below",
    "quantile": "in five equal-sized groups (quintiles) of the score",
    "natural_breaks": "at the natural breaks of the score (Fisher-Jenks)",
    "fixed": "at fixed score thresholds set in the spec",
}
ABOUT_FILE = "{stem}-about.txt"



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


def header(key: str, **words: str) -> str:
    """Return the export header for ``key`` of :data:`HEADERS`, filled in with ``words``."""
    return HEADERS[key].format(**words)


def export_frame(
    result: pd.DataFrame,
    spec: Spec,
    *,
    bands: Sequence[str] | None = None,
    district: str | None = None,
    home: str = "the area",
    scope: str | None = None,
) -> pd.DataFrame:
    """Rows and readable columns of an export, before formatting.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`profiler.pipeline.score_scope` (its ``rank`` is a rank in ``home``),
        or a part of it.
    spec : Spec
    bands : sequence of str, optional
        Keep these overall bands (default: all).
    district : str, optional
        Keep one district (LAD code).
    home : str
        Name of the area ``result`` was ranked in.
    scope : str, optional
        Name of the part of it exported (a district or ward, the rows of ``result`` after the
        ``district`` filter): the first rank column ranks within it (before the band filter),
        and the rank in ``home`` follows. Without it, the one rank is the rank in ``home``.

    Returns
    -------
    DataFrame
        Headers from :data:`HEADERS`; ``attrs["kinds"]`` maps each header to a
        :data:`COLUMN_KINDS` key.
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
    if district is not None:
        rows = rows[rows["lad24_code"] == district]
    # the rank within the exported part, among all its LSOAs (not only the bands exported)
    scope_rank = rows["score"].rank(ascending=False, method="min")
    if bands is not None:
        keep = rows["band"].isin(list(bands))
        rows, scope_rank = rows[keep], scope_rank[keep]
    kinds: dict[str, str] = {}

    def put(name: str, values, kind: str) -> None:
        out[name] = values
        kinds[name] = kind

    out = pd.DataFrame(index=rows.index)
    put(header("lsoa21_code"), rows["lsoa21_code"], "code")
    for col in ("lsoa21_name", "msoa21_hcl_name", "ward24_name", "lad24_name"):
        put(header(col), rows.get(col), "text")
    put(header("band"), rows["band"], "band")
    put(header("score"), rows["score"].round(4), "score")
    if scope is not None and scope != home:
        put(header("rank", scope=scope), scope_rank.astype(int), "rank")
        put(header("home_rank", home=home), rows["rank"], "rank")
    else:
        put(header("rank", scope=home), rows["rank"], "rank")
    for theme in THEMES:
        if f"{theme}_band" in rows:
            put(header("theme_band", theme=THEME_LABELS[theme]), rows[f"{theme}_band"], "band")
    put(header("drivers"), top_contributors(rows, spec) if len(rows) else [], "drivers")
    if "p_high" in rows:
        # from profiler.stability, when the caller merged it in
        put(header("p_high"), rows["p_high"].round(3), "share")
    threshold = result.attrs.get("disclosure_threshold", DEFAULT_THRESHOLD)
    for ind in spec.indicators:
        # suppressed partner counts travel as missing values with a flag: text only here
        hide = suppressed_mask(rows, ind.id)
        put(header("value", label=ind.label, unit=ind.unit),
            shown_value(rows[f"{ind.id}_value"], hide, threshold=threshold), "value")
    for ind in spec.indicators:
        hide = suppressed_mask(rows, ind.id)
        for part in ("norm", "contribution"):
            values = pd.to_numeric(rows[f"{ind.id}_{part}"], errors="coerce").round(4)
            put(header(part, label=ind.label), shown_value(values, hide, is_count=False), part)
        put(header("ind_band", label=ind.label),
            shown_value(rows[f"{ind.id}_band"], hide, is_count=False), "ind_band")
    out = out.reset_index(drop=True).map(neutralise)
    # headers come from spec labels, which a partner's spec may set to anything
    out.columns = [neutralise(str(c)) for c in out.columns]
    out.attrs["kinds"] = {neutralise(str(k)): v for k, v in kinds.items()}
    return out


def _when(iso: str) -> str:
    try:
        when = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    return when.astimezone(UTC).strftime("%-d %B %Y, %H:%M UTC")


def about_sections(meta: Mapping[str, Any], spec: Spec) -> list[tuple[str, str]]:
    """Describe an export in plain words: the About sheet and the ``-about.txt`` sidecar.

    What the file is, its area and scope, the data editions and periods, sources and licences,
    the method in one paragraph, the date made, the caveat, then every metadata item as
    ``key: value`` under "Details" (what :func:`read_export_csv` reads back).

    Parameters
    ----------
    meta : mapping
        From :func:`build_metadata` (with ``rows``, ``bands``).
    spec : Spec

    Returns
    -------
    list of (str, str)
    """
    bands = meta.get("bands") or ", ".join(BANDS)
    area = meta.get("area") or meta.get("scope", "")
    scope = meta.get("scope", area)
    editions: dict[tuple[str, str], list[str]] = {}
    for ind in spec.indicators:
        editions.setdefault((ind.source, ind.period), []).append(ind.label)
    edition_text = " ".join(
        f"{source}, {period}: {', '.join(labels)}." for (source, period), labels in editions.items()
    )
    norm = NORMALISATION_WORDS.get(str(meta.get("normalisation")), str(meta.get("normalisation")))
    banding = BANDING_WORDS.get(str(meta.get("banding")), str(meta.get("banding")))
    method = (
        f"Each LSOA (a neighbourhood of about 1,500 residents) has {len(spec.indicators)} "
        f"indicator values. Each value is {norm}, the reference being {meta.get('reference')}. "
        "The risk score is the weighted mean of those values (weights in the Details below, "
        "signed so that higher is riskier), and the risk level is set "
        f"{banding}. Rank 1 is the highest score. Theme risk levels use the indicators of each "
        "theme only."
    )
    sections = [
        ("What this is", f"{meta.get('rows', '')} LSOAs at risk level {bands} from the "
                         f"{meta.get('title', spec.profile.name)}."),
        ("Area", str(area)),
        ("Scope of this list", str(scope)),
        ("Data editions and periods", edition_text),
        ("Sources and licences", f"{meta.get('sources', '')}. Licences: "
                                 f"{meta.get('licence', '')}. Attribution: "
                                 f"{meta.get('attribution', '')}"),
        ("Method", method),
        ("Date made", _when(str(meta.get("generated_at", "")))),
        ("Please note", str(meta.get("caveat", CAVEAT))),
    ]
    sections += [("Details", f"{k}: {v}") for k, v in meta.items()]
    return [(neutralise(h), neutralise(t)) for h, t in sections]


def about_text(meta: Mapping[str, Any], spec: Spec) -> str:
    """:func:`about_sections` as a text file (the CSV's ``-about.txt`` sidecar)."""
    lines, last = [], None
    for head, body in about_sections(meta, spec):
        if head != last:
            lines += (["", head.upper()] if last else [head.upper()])
            last = head
        lines.append(body)
    return "\n".join(lines) + "\n"


def _csv(frame: pd.DataFrame) -> bytes:
    # the header is the first line: no metadata above it (that goes beside it, csv.zip)
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def commented_csv(frame: pd.DataFrame, meta: Mapping[str, Any]) -> bytes:
    """Write a CSV with its metadata as ``# key: value`` lines above the header.

    Only for the partner counts export, which must carry its disclosure and licence lines in
    the one file it is shared as; :func:`read_export_csv` reads both forms.
    """
    buf = io.StringIO()
    for key, value in meta.items():
        # a spreadsheet splits a "# key: value" line at its delimiters: neutralise every piece
        buf.write("# " + neutralise(f"{neutralise(str(key))}: {neutralise(str(value))}") + "\n")
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def _csv_zip(frame: pd.DataFrame, meta: Mapping[str, Any], spec: Spec, stem: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(f"{stem}.csv", _csv(frame))
        bundle.writestr(ABOUT_FILE.format(stem=stem), about_text(meta, spec).encode("utf-8"))
    return buf.getvalue()


def table_bytes(frame: pd.DataFrame, meta: Mapping[str, Any], fmt: str,
                sheet: str = "Table", stem: str = "table") -> bytes:
    """Bytes of any readable table (monitoring, lists) in the LSOA export's forms.

    ``csv`` is a zip of the CSV (its header the first line) and ``<stem>-about.txt`` with the
    metadata as ``key: value`` lines under DETAILS (what :func:`read_export_csv` reads back);
    ``xlsx`` is the table, bold header, widths and a frozen header, with the metadata on an
    About sheet. Every cell and header is neutralised (:func:`neutralise`).

    Parameters
    ----------
    frame : DataFrame
        Readable columns, one row per line of the table.
    meta : mapping
        Plain-words metadata: title, area, period, rules, sources, generated_at.
    fmt : {"csv", "xlsx"}
    sheet : str
        The Excel sheet's name.
    stem : str
        The CSV's name inside the zip.
    """
    out = frame.reset_index(drop=True).map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    details = [(neutralise(str(k)), neutralise(str(v))) for k, v in meta.items()]
    if fmt == "csv":
        about = "DETAILS\n" + "".join(f"{k}: {v}\n" for k, v in details)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr(f"{stem}.csv", _csv(out))
            bundle.writestr(ABOUT_FILE.format(stem=stem), about.encode("utf-8"))
        return buf.getvalue()
    if fmt != "xlsx":
        raise ProfilerError(f"export: format {str(fmt)[:20]!r}; use csv or xlsx")
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append([_xlsx_text(c) for c in out.columns])
    for row in out.itertuples(index=False):
        ws.append([_xlsx_text(v) for v in row])
    for cells in ws.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text, never a formula
    for i, name in enumerate(out.columns, 1):
        ws.cell(row=1, column=i).font = Font(bold=True)
        longest = max([len(str(name)), *(len(str(v)) for v in out.iloc[:, i - 1])])
        ws.column_dimensions[get_column_letter(i)].width = min(max(10, longest + 2), 60)
    ws.freeze_panes = "A2"
    about = book.create_sheet("About")
    about.column_dimensions["A"].width = 26
    about.column_dimensions["B"].width = 110
    for key, value in details:
        about.append([_xlsx_text(key), _xlsx_text(value)])
        about.cell(row=about.max_row, column=1).font = Font(bold=True)
        about.cell(row=about.max_row, column=2).alignment = Alignment(wrap_text=True)
        for cell in about[about.max_row]:
            cell.data_type = "s"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _xlsx_text(value: Any) -> Any:
    # Control characters are not allowed in worksheets: drop them rather than fail the export.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _xlsx(frame: pd.DataFrame, meta: Mapping[str, Any], spec: Spec) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    kinds = frame.attrs.get("kinds", {})
    book = Workbook()
    sheet = book.active
    sheet.title = "LSOAs"
    sheet.append([_xlsx_text(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        sheet.append([None if isinstance(v, float) and not math.isfinite(v) else _xlsx_text(v)
                      for v in row])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            # openpyxl treats any string starting with "=" as a formula; keep text as text.
            if isinstance(cell.value, str):
                cell.data_type = "s"
    bold = Font(bold=True)
    for i, name in enumerate(frame.columns, 1):
        fmt, width, grouped = COLUMN_KINDS[kinds.get(name, "text")]
        letter = get_column_letter(i)
        head = sheet.cell(row=1, column=i)
        head.font, head.alignment = bold, Alignment(wrap_text=True, vertical="top")
        dim = sheet.column_dimensions[letter]
        dim.width = width
        if grouped:
            dim.outline_level, dim.hidden = 1, True
        if fmt != "@":
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
    sheet.row_dimensions[1].height = 60
    sheet.freeze_panes = "B2"  # the header row and the LSOA code stay in view
    sheet.auto_filter.ref = sheet.dimensions
    about = book.create_sheet("About")
    about.column_dimensions["A"].width = 26
    about.column_dimensions["B"].width = 110
    for head, body in about_sections(meta, spec):
        about.append([_xlsx_text(head), _xlsx_text(body)])
        about.cell(row=about.max_row, column=1).font = bold
        about.cell(row=about.max_row, column=2).alignment = Alignment(wrap_text=True,
                                                                       vertical="top")
        for cell in about[about.max_row]:
            cell.data_type = "s"
    buf = io.BytesIO()
    book.save(buf)
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
    home: str = "the area",
    scope: str | None = None,
    stem: str = "high-risk-lsoas",
) -> bytes:
    """Serialise the LSOAs in the chosen bands (and district) with a metadata block.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`profiler.pipeline.score_scope`.
    spec : Spec
    fmt : {"csv", "csv.zip", "xlsx", "geojson"}
        CSV: the table, header first, no metadata. csv.zip: that CSV (``<stem>.csv``) and
        ``<stem>-about.txt`` (:func:`about_text`). XLSX: sheet ``LSOAs`` (frozen header, column
        widths, number formats, the score breakdown grouped) and sheet ``About``
        (:func:`about_sections`). GeoJSON: a FeatureCollection with a top-level ``metadata``.
    bands : sequence of str, optional
    district : str, optional
    boundaries : GeoDataFrame, optional
        Needed for GeoJSON (``lsoa21_code`` and geometry, EPSG:4326).
    meta : mapping, optional
        From :func:`build_metadata`.
    home, scope : str
        Names of the area ranked and of the part exported (see :func:`export_frame`).
    stem : str
        File name stem of the members of a csv.zip.

    Returns
    -------
    bytes
    """
    if fmt not in FORMATS:
        raise ProfilerError(f"export: format {fmt!r}; use one of {', '.join(FORMATS)}")
    frame = export_frame(result, spec, bands=bands, district=district, home=home, scope=scope)
    meta = {**(meta or {}), "rows": len(frame)}
    if bands is not None:
        meta.setdefault("bands", ", ".join(bands))
    if district is not None:
        meta.setdefault("district", district)
    if fmt == "csv":
        return _csv(frame)
    if fmt == "csv.zip":
        return _csv_zip(frame, meta, spec, stem)
    if fmt == "xlsx":
        return _xlsx(frame, meta, spec)
    return _geojson(frame, meta, boundaries)


def _about_meta(text: str) -> dict[str, str]:
    """Read the ``key: value`` lines under DETAILS of an ``-about.txt``."""
    meta: dict[str, str] = {}
    details = False
    for line in text.split("\n"):
        if line == "DETAILS":
            details = True
        elif details and ": " in line:
            key, _, value = line.partition(": ")
            meta[key] = value
    return meta


def read_export_csv(source) -> tuple[dict[str, str], pd.DataFrame]:
    """Read a CSV export back: its metadata and its table (all cells as text).

    Parameters
    ----------
    source : path, bytes or file-like
        A csv.zip export, a CSV (its ``<stem>-about.txt`` beside it is read when ``source``
        is a path), or an older CSV whose ``# key: value`` lines come first.

    Returns
    -------
    (dict, DataFrame)
    """
    from pathlib import Path

    meta: dict[str, str] = {}
    if isinstance(source, bytes):
        blob = source
    elif hasattr(source, "read"):
        blob = source.read()
        blob = blob if isinstance(blob, bytes) else blob.encode("utf-8")
    else:
        path = Path(source)
        blob = path.read_bytes()
        sidecar = path.with_name(ABOUT_FILE.format(stem=path.stem))
        if sidecar.exists():
            meta = _about_meta(sidecar.read_text(encoding="utf-8"))
    if blob[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(blob)) as bundle:
            names = bundle.namelist()
            table = next(n for n in names if n.endswith(".csv"))
            about = [n for n in names if n.endswith("-about.txt")]
            if about:
                meta = _about_meta(bundle.read(about[0]).decode("utf-8"))
            blob = bundle.read(table)
    lines = blob.decode("utf-8").split("\n")
    n = 0
    while n < len(lines) and lines[n].startswith("# "):
        key, _, value = lines[n][2:].partition(": ")
        meta[key] = value
        n += 1
    frame = pd.read_csv(io.StringIO("\n".join(lines[n:])), dtype=str, keep_default_na=False)
    return meta, frame
