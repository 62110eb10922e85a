"""Contracts on the data shipped in the repository (no ../shared at run time)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from shipped import WARWICKSHIRE

from profiler.build import (
    IDENTITY_COLUMNS,
    INDICATOR_COLUMNS,
    OBSERVED_INDICATOR_COLUMNS,
    run_build,
    slug,
)
from profiler.errors import ProfilerError
from profiler.geo import load_districts, load_lsoa_boundaries, load_police_points, load_wards
from profiler.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
TABLE = DATA / "indicators" / "lsoa21_indicators.csv"
DISTRICT_SIZES = {"E07000218": 38, "E07000219": 84, "E07000220": 67, "E07000221": 77,
                  "E07000222": 88}
RUNTIME_PATHS = ("profiler", "layers", "pages", "dashboard", "app.py")


@pytest.fixture(scope="module")
def table():
    return pd.read_csv(TABLE, dtype={"lsoa21_code": str})


def test_data001_england_and_warwickshire_counts(table):
    assert len(table) == 33755
    warks = table[table["utla_code"] == WARWICKSHIRE]
    assert len(warks) == 354
    assert warks.groupby("lad24_code").size().to_dict() == DISTRICT_SIZES


def test_data002_codes_unique_and_well_formed(table):
    assert table["lsoa21_code"].is_unique
    assert table["lsoa21_code"].str.fullmatch(r"E01\d{6}").all()
    assert table["lsoa21_code"].is_monotonic_increasing


def test_data003_indicators_complete_and_match_spec(table):
    spec = load_spec(DATA / "indicators" / "spec.toml")
    # Every spec column is built: IoD2025 ones complete, observed ones where police.uk months are.
    assert {i.column for i in spec.indicators} <= {*INDICATOR_COLUMNS, *OBSERVED_INDICATOR_COLUMNS}
    assert {i.column for i in spec.indicators if i.optional} <= set(OBSERVED_INDICATOR_COLUMNS)
    observed = table[list(OBSERVED_INDICATOR_COLUMNS)]
    covered = table["observed_sv_months"].notna()
    assert (observed.notna().all(axis=1) == covered).all()
    assert covered[table["utla_code"] == WARWICKSHIRE].all()
    assert (observed[covered] >= 0).all().all() and (table["residents_2020"] > 0).all()
    blanks = table[list(INDICATOR_COLUMNS)].isna().sum()
    assert not blanks.any(), f"blank indicator values: {blanks[blanks > 0].to_dict()}"
    assert table["children_income_deprived_pct"].between(0, 100).all()
    assert (table["children_0_15"] > 0).all()
    for col in IDENTITY_COLUMNS:
        assert table[col].notna().all(), col


def test_data004_column_contract(table):
    police = [c for c in table.columns if c.startswith("policeuk_2024_")]
    expected = [*IDENTITY_COLUMNS, *INDICATOR_COLUMNS, *OBSERVED_INDICATOR_COLUMNS,
                "children_0_15", "households_2021", "residents_2020", "observed_sv_months",
                *police]
    assert list(table.columns) == expected
    assert police[-1] == "policeuk_2024_total"
    # One column per crime type in the Jan-Apr 2024 files, e.g. possession of weapons.
    types = load_police_points(DATA)["crime_type"].unique()
    assert sorted(police[:-1]) == sorted(f"policeuk_2024_{slug(t)}" for t in types)
    assert "policeuk_2024_possession_of_weapons" in police


def test_data005_police_context_only_for_warwickshire(table):
    warks = table["utla_code"] == WARWICKSHIRE
    police = [c for c in table.columns if c.startswith("policeuk_2024_")]
    assert table.loc[warks, police].notna().all().all()
    assert table.loc[~warks, police].isna().all().all()
    by_type = table.loc[warks, police[:-1]].sum(axis=1)
    assert (by_type == table.loc[warks, "policeuk_2024_total"]).all()
    assert table.loc[warks, "policeuk_2024_total"].sum() > 15000


@pytest.mark.parametrize("scope,n", [("warwickshire", 354), ("england", 33755)])
def test_data006_boundaries_join_table_one_to_one(table, scope, n):
    gdf = load_lsoa_boundaries(DATA, scope)
    assert list(gdf.columns) == ["lsoa21_code", "lsoa21_name", "lad_code", "geometry"]
    assert len(gdf) == n and gdf["lsoa21_code"].is_unique
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.is_valid.all() and not gdf.geometry.is_empty.any()
    rows = table if scope == "england" else table[table["utla_code"] == WARWICKSHIRE]
    assert set(gdf["lsoa21_code"]) == set(rows["lsoa21_code"])
    joined = gdf.merge(rows, on="lsoa21_code", validate="one_to_one")
    assert (joined["lad_code"] == joined["lad24_code"]).all()


def test_data007_warwickshire_extent_districts_and_wards():
    lsoa = load_lsoa_boundaries(DATA, "warwickshire")
    minx, miny, maxx, maxy = lsoa.total_bounds
    assert -2.0 < minx < maxx < -1.1 and 51.9 < miny < maxy < 52.7
    assert lsoa.groupby("lad_code").size().to_dict() == DISTRICT_SIZES
    districts = load_districts(DATA, "warwickshire")
    wards = load_wards(DATA, "warwickshire")
    assert sorted(districts["lad_code"]) == sorted(DISTRICT_SIZES)
    assert districts["lad_name"].notna().all()
    assert len(wards) == 108 and set(wards["lad_code"]) == set(DISTRICT_SIZES)
    for layer in (districts, wards):
        assert layer.crs.to_epsg() == 4326
        assert layer.geometry.is_valid.all() and not layer.geometry.is_empty.any()
        bx0, by0, bx1, by1 = layer.total_bounds
        assert abs(bx0 - minx) < 0.01 and abs(by1 - maxy) < 0.01


def test_data008_police_points_within_the_force_area():
    pts = load_police_points(DATA)
    assert list(pts.columns) == ["month", "crime_type", "longitude", "latitude", "lsoa_code",
                                 "location"]
    assert sorted(pts["month"].unique()) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert pts[["longitude", "latitude"]].notna().all().all()
    # Warwickshire Police also records some crimes located elsewhere (about 2%).
    inside = pts["longitude"].between(-2.0, -1.1) & pts["latitude"].between(51.9, 52.7)
    assert inside.mean() > 0.97
    assert {"Violence and sexual offences", "Possession of weapons"} <= set(pts["crime_type"])
    assert len(load_police_points(DATA, ["2018-10"])) > 4000


def test_data009_build_reproduces_committed_table(tmp_path):
    out = tmp_path / "rebuilt.csv"
    run_build(DATA, out)
    assert out.read_bytes() == TABLE.read_bytes(), (
        "data/indicators/lsoa21_indicators.csv differs from a fresh build: run "
        "`python -m profiler build` and commit the result"
    )
    assert not [p for p in tmp_path.iterdir() if p.name != "rebuilt.csv"], "temp file left"


def _provenance_sections() -> dict[str, str]:
    text = (DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    parts = re.split(r"^### ", text, flags=re.MULTILINE)[1:]
    return {part.splitlines()[0].strip(): part for part in parts}


def test_data010_provenance_covers_every_shipped_file():
    text = (DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "Open Government Licence v3.0" in text
    sections = _provenance_sections()
    shipped = [p for p in (DATA / "sources").rglob("*") if p.is_file()]
    shipped += [p for p in (DATA / "boundaries").iterdir() if p.is_file()]
    problems = []
    for path in shipped:
        heading = path.name
        if path.parent.name == "police_uk":
            heading = "police_uk/YYYY-MM-warwickshire-street.csv.gz (9 files)"
        elif path.parent.name == "leicestershire" and path.parent.parent.name == "police_uk":
            heading = "police_uk/leicestershire/YYYY-MM-leicestershire-street.csv.gz (35 files)"
        section = sections.get(heading)
        if section is None:
            problems.append(f"{path.relative_to(ROOT)}: no '### {heading}' section")
        elif "Licence:" not in section or "Attribution:" not in section:
            problems.append(f"{path.relative_to(ROOT)}: section lacks Licence/Attribution")
    assert not problems, f"PROVENANCE.md: {problems}"
    assert "lsoa21_indicators.csv" in text and "imputed as 5" in text


def test_data011_no_runtime_code_reads_shared():
    files = [ROOT / "app.py"] if (ROOT / "app.py").exists() else []
    for name in RUNTIME_PATHS[:-1]:
        files += sorted((ROOT / name).rglob("*.py"))
    assert any(f.parent.name == "profiler" for f in files)
    offenders = [
        str(f.relative_to(ROOT)) for f in files
        if re.search(r"\.\./shared|shared/data", f.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"runtime files refer to ../shared: {offenders}"


def test_data012_loaders_name_the_missing_file(tmp_path):
    with pytest.raises(ProfilerError, match=r"warwickshire_lsoa21\.gpkg.*git checkout"):
        load_lsoa_boundaries(tmp_path, "warwickshire")
    with pytest.raises(ProfilerError, match=r"warwickshire_districts\.gpkg"):
        load_districts(tmp_path, "warwickshire")
    with pytest.raises(ProfilerError, match=r"warwickshire_wards25\.gpkg"):
        load_wards(tmp_path, "warwickshire")
    with pytest.raises(ProfilerError, match=r"police_uk: no police\.uk street files.*git checkout"):
        load_police_points(tmp_path)
    with pytest.raises(ProfilerError, match=r"2024-01-warwickshire-street\.csv\.gz: police\.uk "
                       r"file missing"):
        load_police_points(tmp_path, forces=["warwickshire"])
    with pytest.raises(ProfilerError, match=r"wales_lsoa21\.gpkg: boundary file missing; use "
                       r"scope 'england' or 'warwickshire'"):
        load_lsoa_boundaries(DATA, "wales")
    with pytest.raises(ProfilerError, match=r"unknown scope '\.\./x'"):
        load_lsoa_boundaries(DATA, "../x")
    with pytest.raises(ProfilerError, match=r"no file for month\(s\) 2020-01"):
        load_police_points(DATA, ["2020-01"])
    with pytest.raises(ProfilerError, match=r"iod2025_lsoa21_underlying_indicators\.csv\.gz"):
        run_build(tmp_path, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_data013_loaders_reject_malformed_files(tmp_path):
    (tmp_path / "boundaries").mkdir()
    (tmp_path / "boundaries" / "warwickshire_districts.gpkg").write_bytes(b"not a geopackage")
    with pytest.raises(ProfilerError, match=r"warwickshire_districts\.gpkg: cannot read"):
        load_districts(tmp_path, "warwickshire")
    wards = load_wards(DATA, "warwickshire").drop(columns=["ward_name"])
    wards.to_file(tmp_path / "boundaries" / "warwickshire_wards25.gpkg", driver="GPKG")
    with pytest.raises(ProfilerError, match=r"missing column\(s\) ward_name"):
        load_wards(tmp_path, "warwickshire")
    police = tmp_path / "sources" / "police_uk"
    police.mkdir(parents=True)
    (police / "2024-01-warwickshire-street.csv.gz").write_bytes(b"\x1f\x8b truncated")
    with pytest.raises(ProfilerError, match=r"2024-01-warwickshire-street\.csv\.gz: cannot read"):
        load_police_points(tmp_path, ["2024-01"])


def test_data014_build_rejects_a_malformed_source(tmp_path):
    shutil.copytree(DATA / "sources", tmp_path / "sources")
    bad = tmp_path / "sources" / "iod2025_lsoa21_subdomains.csv.gz"
    bad.write_bytes(b"lsoa21_code,other\nE01000001,1\n")
    with pytest.raises(ProfilerError, match=r"iod2025_lsoa21_subdomains\.csv\.gz: cannot read"):
        run_build(tmp_path, tmp_path / "out.csv")
