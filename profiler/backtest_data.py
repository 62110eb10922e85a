"""Inputs of a backtest from the shipped files (file I/O at the edge; the scoring is pure).

- Incidents: the shipped force's police.uk months, each record placed in a 2021 LSOA
  (months published with 2011 LSOA codes are converted with the ONS lookup; a split 2011 LSOA
  is resolved by point-in-polygon, as :func:`profiler.change.locate_records` does). Any frame
  of the same shape (``month``, ``crime_type``, ``longitude``, ``latitude``, ``lsoa21_code``),
  such as ``profiler.police.load_incidents`` returns for any force, can be used instead.
- Residents per 2021 LSOA: :func:`profiler.partner.residents_lsoa21` (ONS mid-2020, carried).
- Land area per 2021 LSOA: from the shipped boundaries, in square kilometres (British National
  Grid, EPSG:27700).
- Baselines: IoD2025 Index of Multiple Deprivation score and crime domain score.
- The suite: the shipped backtests and the selection splits, declared as data in
  ``data/indicators/backtest_suite.toml`` (:data:`SHIPPED_BACKTESTS`, :data:`SELECTION_SPLITS`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from profiler.errors import ProfilerError

INCIDENT_COLUMNS = ("month", "crime_type", "longitude", "latitude", "lsoa21_code")


def code_vintage(codes: pd.Series, lookup: pd.DataFrame) -> str:
    """Which LSOA codes a month's records carry: ``"2011"`` or ``"2021"``.

    Decided by counting codes that exist only in one vintage (police.uk moved to 2021 codes
    during 2023; the shipped 2018-19 files carry 2011 codes, the 2024 files 2021 codes).
    """
    only11 = set(lookup["lsoa11_code"]) - set(lookup["lsoa21_code"])
    only21 = set(lookup["lsoa21_code"]) - set(lookup["lsoa11_code"])
    present = set(codes.dropna())
    return "2011" if len(present & only11) > len(present & only21) else "2021"


def load_shipped_incidents(
    data_dir: str | Path,
    months: tuple[str, ...],
    areas,
    lookup: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Load shipped police.uk months with each record's 2021 LSOA among ``areas``.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    months : tuple of str
        ``YYYY-MM`` months shipped in ``data/sources/police_uk``.
    areas : GeoDataFrame
        2021 LSOAs (``lsoa21_code``, geometry) records may fall in.
    lookup : DataFrame, optional
        The ONS 2011-2021 lookup; read from the sources when not given.

    Returns
    -------
    DataFrame
        :data:`INCIDENT_COLUMNS`; ``lsoa21_code`` is blank for records outside ``areas``.
    """
    from profiler.build import _read
    from profiler.change import locate_records
    from profiler.geo import load_police_points

    if lookup is None:
        lookup = _read(Path(data_dir), "lsoa11_lsoa21_lad22_ew.csv.gz",
                       usecols=["lsoa11_code", "lsoa21_code", "change_code"])
    frames = []
    for month in months:
        rec = load_police_points(data_dir, [month])
        rec["lsoa21_code"] = locate_records(rec, code_vintage(rec["lsoa_code"], lookup), lookup,
                                            areas)
        frames.append(rec[list(INCIDENT_COLUMNS)])
    return pd.concat(frames, ignore_index=True)


def check_incidents(incidents: pd.DataFrame) -> pd.DataFrame:
    """Validate an incident frame of :data:`INCIDENT_COLUMNS` shape; months become ``YYYY-MM``.

    Parameters
    ----------
    incidents : DataFrame
        E.g. from :func:`load_shipped_incidents` or ``profiler.police.load_incidents``.

    Returns
    -------
    DataFrame
        A copy with ``month`` as ``YYYY-MM`` text.
    """
    if not isinstance(incidents, pd.DataFrame):
        raise ProfilerError(f"incidents: expected a DataFrame, got {type(incidents).__name__}")
    missing = [c for c in ("month", "crime_type", "lsoa21_code") if c not in incidents.columns]
    if missing:
        raise ProfilerError(
            f"incidents: missing column(s) {', '.join(missing)}; pass month, crime_type, "
            "longitude, latitude, lsoa21_code (as profiler.police.load_incidents returns)"
        )
    out = incidents.copy()
    out["month"] = out["month"].astype(str).str[:7]
    bad = ~out["month"].str.fullmatch(r"\d{4}-\d{2}")
    if bad.any():
        raise ProfilerError(f"incidents: month {out.loc[bad, 'month'].iloc[0]!r} is not YYYY-MM")
    return out


def land_area_km2(areas) -> pd.Series:
    """Land area of each LSOA polygon in km2 (EPSG:27700), indexed by ``lsoa21_code``."""
    metric = areas.to_crs(27700)
    return pd.Series(metric.geometry.area.to_numpy() / 1e6, index=areas["lsoa21_code"].to_numpy(),
                     name="area_km2")


def iod_baselines(data_dir: str | Path) -> pd.DataFrame:
    """IoD2025 IMD score and crime domain score per 2021 LSOA (higher = more deprived)."""
    from profiler.build import _read

    scores = _read(Path(data_dir), "iod2025_lsoa21_scores_ranks_deciles.csv.gz",
                   usecols=["lsoa21_code", "IMD_score", "Crime_score"])
    return scores.set_index("lsoa21_code").astype(np.float64)


def residents(data_dir: str | Path, households: pd.Series | None = None) -> pd.Series:
    """Residents per 2021 LSOA (ONS mid-2020, carried; see :mod:`profiler.observed`)."""
    from profiler.partner import load_code_lookup, residents_lsoa21

    return residents_lsoa21(load_code_lookup(data_dir, households))


SUITE_FILE = "backtest_suite.toml"  # under data/indicators/
_SUITE_KEYS = {"backtest": ("id", "area", "area_name", "label", "fit_before", "test", "observed"),
               "selection": ("id", "inside", "area", "area_name", "fit_before", "test",
                             "observed")}


def load_suite(data_dir: str | Path) -> dict[str, tuple[dict, ...]]:
    """Read the backtest suite: ``{"backtest": (...), "selection": (...)}``, one dict per entry.

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder (the suite is ``indicators/backtest_suite.toml``).

    Returns
    -------
    dict
        Each entry's keys as in the file (see its header), in file order.
    """
    import tomllib

    path = Path(data_dir) / "indicators" / SUITE_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProfilerError(f"{path}: cannot read the backtest suite ({exc}); restore it from "
                            "git") from None
    out = {}
    for kind, keys in _SUITE_KEYS.items():
        entries = tuple(dict(e) for e in raw.get(kind, ()))
        for e in entries:
            missing = [k for k in keys if k not in e]
            if missing:
                raise ProfilerError(f"{path}: [[{kind}]] {e.get('id', '?')!r} lacks "
                                    f"{', '.join(missing)}; give every key of the header")
        out[kind] = entries
    return out


_SUITE = load_suite(Path(__file__).resolve().parents[1] / "data")
#: The shipped backtests (``python -m profiler backtest --suite``), each fitted only on data whose
#: period ends before its test months (``data/indicators/backtest_suite.toml``).
SHIPPED_BACKTESTS: tuple[dict, ...] = _SUITE["backtest"]
#: The selection splits, each inside a shipped backtest's fit window: what specs and observed
#: methods are chosen on, never the test windows.
SELECTION_SPLITS: tuple[dict, ...] = _SUITE["selection"]
BACKTESTS_FILE = "backtests.json"  # under data/indicators/


def run_backtest(
    data_dir,
    indicators,
    spec_path,
    *,
    area: str,
    fit_before: str,
    test: tuple[str, ...],
    observed: tuple[str, ...] = (),
    compare=(),
    incidents=None,
    crime_types=None,
    partner_extract=None,
    n_boot: int = 1000,
    seed: int = 2024,
):
    """Run one backtest from the shipped files (what ``python -m profiler backtest`` does).

    Parameters
    ----------
    data_dir : str or Path
        The ``data`` folder.
    indicators, spec_path : str or Path
        The indicator table and the spec judged.
    area : str
        The LSOAs judged (a district or county code or name).
    fit_before, test, observed
        See :func:`profiler.backtest.check_windows`.
    compare : sequence of paths
        Other specs judged alongside (``compared: <file name>``).
    incidents : path or DataFrame, optional
        A partner's or another force's records (``month, crime_type, lsoa21_code``); default
        the shipped force's months where the area lies in the shipped detailed boundaries, or
        the imported police.uk store elsewhere.
    crime_types : sequence of str, optional
        Default: the four serious-violence types.
    partner_extract : path, optional
        A partner's incident extract (the upload format, :func:`profiler.partner.load_incidents`):
        its violence records, by month of their date, are both the observed and the test
        incidents (crime type :data:`PARTNER_TYPE`).
    n_boot, seed : int

    Returns
    -------
    (BacktestResult, dict)
        The result and its metadata (``spec_name``, ``spec_sha256``, ``crime_types``).
    """
    import dataclasses

    from profiler.backtest import check_windows, profile_backtest
    from profiler.geo import ENGLAND, covering_scope, load_lsoa_boundaries
    from profiler.observed import OBSERVED_COLUMNS, SV_TYPES
    from profiler.pipeline import select_scope
    from profiler.spec import load_spec
    from profiler.table import load_indicator_table

    check_windows(fit_before, test, observed)
    types = SV_TYPES if crime_types is None else tuple(crime_types)
    spec = load_spec(spec_path)
    # Observed-violence columns are computed from the observed months, not read from the table.
    static = dataclasses.replace(spec, indicators=tuple(
        i for i in spec.indicators if i.column not in OBSERVED_COLUMNS))
    table = load_indicator_table(indicators, static)
    scope_codes = set(select_scope(table, area)["lsoa21_code"])
    # The shipped detailed boundaries (the boundaries' default scope: the shipped force's LSOAs).
    detailed = covering_scope(data_dir, scope_codes)
    areas = load_lsoa_boundaries(data_dir, detailed)
    shipped = None if detailed == ENGLAND else areas
    months = sorted({*observed, *test})
    if partner_extract is not None:
        incidents, types = partner_incidents(partner_extract, areas, table,
                                                data_dir), (PARTNER_TYPE,)
    elif isinstance(incidents, pd.DataFrame):
        pass
    elif incidents is not None:
        try:
            incidents = pd.read_csv(incidents, dtype={"month": str})
        except (OSError, ValueError) as exc:
            raise ProfilerError(f"--incidents {incidents}: cannot read ({exc}); pass a CSV "
                                "with month, crime_type, lsoa21_code") from None
    elif areas is shipped:
        incidents = load_shipped_incidents(data_dir, tuple(months), areas)
    else:  # any other force: the imported police.uk store (python -m profiler police import)
        from profiler.police import load_incidents

        ref = table[table["utla_code"].isin(set(select_scope(table, area)["utla_code"]))]
        incidents = load_incidents(data_dir, lsoa_codes=ref["lsoa21_code"], months=months)
        incidents = incidents.astype({"month": str, "crime_type": str, "lsoa21_code": str})
    incidents = check_incidents(incidents)
    crime_only = tuple(i for i in static.indicators if "causal" not in i.themes)
    variants = {"crime indicators alone": dataclasses.replace(spec, indicators=crime_only)}
    for path in compare:
        variants[f"compared: {Path(path).name}"] = load_spec(path)
    result = profile_backtest(
        table, spec, incidents, fit_before=fit_before, test_months=test,
        observed_months=observed,
        residents=residents(data_dir, table.set_index("lsoa21_code")["households_2021"]),
        area=land_area_km2(areas), baselines=iod_baselines(data_dir), scope=area,
        crime_types=types, variants=variants, n_boot=n_boot, seed=seed,
    )
    return result, {"spec_name": spec.profile.name, "spec_sha256": spec.sha256,
                    "crime_types": list(types)}


PARTNER_TYPE = "partner: violence"  # the crime type a partner extract's violence records take


def partner_incidents(path, areas, table, data_dir) -> pd.DataFrame:
    """Read a partner extract's violence records as backtest incidents (month, LSOA).

    Read and validated as an upload is (:func:`profiler.partner.load_incidents`, one-line
    errors naming the file, row and fix); placed in the LSOAs of ``areas``.
    """
    from profiler.partner import load_code_lookup, load_incidents

    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ProfilerError(f"--partner-extract {path}: cannot read ({exc.strerror})") from None
    lookup = load_code_lookup(data_dir, table.set_index("lsoa21_code")["households_2021"])
    records, _ = load_incidents(content, path.name, lsoa_boundaries=areas, lookup=lookup,
                                max_reject_share=0.05)
    records = records[records["violence"]]
    return pd.DataFrame({"month": records["date"].dt.strftime("%Y-%m"),
                         "crime_type": PARTNER_TYPE, "longitude": np.nan, "latitude": np.nan,
                         "lsoa21_code": records["lsoa21_code"].astype(str)})


def load_backtests(data_dir) -> dict:
    """Read ``data/indicators/backtests.json`` (``{}`` when it is not there)."""
    import json

    path = Path(data_dir) / "indicators" / BACKTESTS_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ProfilerError(f"{path}: cannot read ({exc}); regenerate it with `python -m "
                            "profiler backtest --suite --json " + str(path) + "`") from None
