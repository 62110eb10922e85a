"""Inputs of a backtest from the shipped files (file I/O at the edge; the scoring is pure).

- Incidents: the shipped Warwickshire police.uk months, each record placed in a 2021 LSOA
  (months published with 2011 LSOA codes are converted with the ONS lookup; a split 2011 LSOA
  is resolved by point-in-polygon, as :func:`profiler.change.locate_records` does). Any frame
  of the same shape (``month``, ``crime_type``, ``longitude``, ``latitude``, ``lsoa21_code``),
  such as ``profiler.police.load_incidents`` returns for any force, can be used instead.
- Residents per 2021 LSOA: :func:`profiler.partner.residents_lsoa21` (ONS mid-2020, carried).
- Land area per 2021 LSOA: from the shipped boundaries, in square kilometres (British National
  Grid, EPSG:27700).
- Baselines: IoD2025 Index of Multiple Deprivation score and crime domain score.
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


#: The shipped backtests (``python -m profiler backtest --suite``), each fitted only on data whose
#: period ends before its test months: Warwickshire with observed months five years earlier and
#: just before; Leicestershire year-ahead from its 35 imported months.
SHIPPED_BACKTESTS: tuple[dict, ...] = (
    {"id": "warks_2024_from_2018", "area": "E10000031", "area_name": "Warwickshire",
     "label": "Warwickshire: test Jan-Apr 2024, observed Oct 2018-Feb 2019",
     "fit_before": "2024-01", "test": "2024-01..2024-04", "observed": "2018-10..2019-02"},
    {"id": "warks_2024_from_2024", "area": "E10000031", "area_name": "Warwickshire",
     "label": "Warwickshire: test Mar-Apr 2024, observed Jan-Feb 2024",
     "fit_before": "2024-03", "test": "2024-03..2024-04", "observed": "2024-01..2024-02"},
    {"id": "leics_2021", "area": "E10000018", "area_name": "Leicestershire",
     "label": "Leicestershire: test Dec 2020-Nov 2021, observed the year before",
     "fit_before": "2020-12", "test": "2020-12..2021-11", "observed": "2019-12..2020-11"},
    {"id": "leics_2022", "area": "E10000018", "area_name": "Leicestershire",
     "label": "Leicestershire: test Dec 2021-Oct 2022, observed the year before",
     "fit_before": "2021-12", "test": "2021-12..2022-10", "observed": "2020-12..2021-11"},
)
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
        The LSOAs judged (``warwickshire``, a district or county code or name).
    fit_before, test, observed
        See :func:`profiler.backtest.check_windows`.
    compare : sequence of paths
        Other specs judged alongside (``compared: <file name>``).
    incidents : path or DataFrame, optional
        A partner's or another force's records (``month, crime_type, lsoa21_code``); default
        the shipped Warwickshire files, or the imported police.uk store outside Warwickshire.
    crime_types : sequence of str, optional
        Default: the four serious-violence types.
    n_boot, seed : int

    Returns
    -------
    (BacktestResult, dict)
        The result and its metadata (``spec_name``, ``spec_sha256``, ``crime_types``).
    """
    import dataclasses

    from profiler.backtest import check_windows, profile_backtest
    from profiler.geo import load_lsoa_boundaries
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
    areas = warwickshire = load_lsoa_boundaries(data_dir, "warwickshire")
    if not scope_codes <= set(areas["lsoa21_code"]):
        areas = load_lsoa_boundaries(data_dir, "england")
    months = sorted({*observed, *test})
    if isinstance(incidents, pd.DataFrame):
        pass
    elif incidents is not None:
        try:
            incidents = pd.read_csv(incidents, dtype={"month": str})
        except (OSError, ValueError) as exc:
            raise ProfilerError(f"--incidents {incidents}: cannot read ({exc}); pass a CSV "
                                "with month, crime_type, lsoa21_code") from None
    elif areas is warwickshire:
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
