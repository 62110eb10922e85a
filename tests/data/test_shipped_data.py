"""Contracts on the data shipped in the repository (no ../shared at run time)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from profiler.build import INDICATOR_COLUMNS, run_build
from profiler.geo import load_districts, load_lsoa_boundaries, load_police_points, load_wards
from profiler.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
TABLE = DATA / "indicators" / "lsoa21_indicators.csv"
DISTRICT_SIZES = {"E07000218": 38, "E07000219": 84, "E07000220": 67, "E07000221": 77,
                  "E07000222": 88}


@pytest.fixture(scope="module")
def table():
    return pd.read_csv(TABLE, dtype={"lsoa21_code": str})


def test_dat001_england_and_warwickshire_counts(table):
    assert len(table) == 33755
    warks = table[table["utla_code"] == "E10000031"]
    assert len(warks) == 354
    assert warks.groupby("lad24_code").size().to_dict() == DISTRICT_SIZES


def test_dat002_codes_unique_and_well_formed(table):
    assert table["lsoa21_code"].is_unique
    assert table["lsoa21_code"].str.fullmatch(r"E01\d{6}").all()


def test_dat003_indicators_complete_and_match_spec(table):
    spec = load_spec(DATA / "indicators" / "spec.toml")
    assert [i.column for i in spec.indicators] == list(INDICATOR_COLUMNS)
    assert not table[list(INDICATOR_COLUMNS)].isna().any().any()
    assert table["children_income_deprived_pct"].between(0, 100).all()
    for col in ("msoa21_code", "msoa21_hcl_name", "ward24_name", "lad24_name", "utla_code"):
        assert table[col].notna().all(), col


def test_dat004_police_context_only_for_warwickshire(table):
    warks = table["utla_code"] == "E10000031"
    assert table.loc[warks, "policeuk_2024_total"].notna().all()
    assert table.loc[~warks, "policeuk_2024_total"].isna().all()
    assert table.loc[warks, "policeuk_2024_total"].sum() > 15000


@pytest.mark.parametrize("scope,n", [("warwickshire", 354), ("england", 33755)])
def test_dat005_boundaries_join_table_one_to_one(table, scope, n):
    gdf = load_lsoa_boundaries(DATA, scope)
    assert len(gdf) == n and gdf["lsoa21_code"].is_unique
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.is_valid.all() and not gdf.geometry.is_empty.any()
    assert set(gdf["lsoa21_code"]) <= set(table["lsoa21_code"])
    if scope == "england":
        assert set(gdf["lsoa21_code"]) == set(table["lsoa21_code"])
    else:
        warks = set(table.loc[table["utla_code"] == "E10000031", "lsoa21_code"])
        assert set(gdf["lsoa21_code"]) == warks


def test_dat006_warwickshire_extent_and_districts():
    lsoa = load_lsoa_boundaries(DATA, "warwickshire")
    minx, miny, maxx, maxy = lsoa.total_bounds
    assert -2.0 < minx < maxx < -1.1 and 51.9 < miny < maxy < 52.7
    districts = load_districts(DATA)
    assert sorted(districts["lad_code"]) == sorted(DISTRICT_SIZES)
    assert districts.geometry.is_valid.all()
    wards = load_wards(DATA)
    assert len(wards) == 108 and set(wards["lad_code"]) == set(DISTRICT_SIZES)


def test_dat007_police_points_within_the_force_area():
    pts = load_police_points(DATA)
    assert len(pts) > 15000
    # Warwickshire Police also records some crimes located elsewhere (about 2%).
    inside = pts["longitude"].between(-2.0, -1.1) & pts["latitude"].between(51.9, 52.7)
    assert inside.mean() > 0.97
    assert {"Violence and sexual offences", "Possession of weapons"} <= set(pts["crime_type"])


def test_dat008_build_reproduces_committed_table(tmp_path):
    out = tmp_path / "rebuilt.csv"
    run_build(DATA, out)
    assert out.read_bytes() == TABLE.read_bytes(), (
        "data/indicators/lsoa21_indicators.csv differs from a fresh build: run "
        "`python -m profiler build` and commit the result"
    )


def test_dat009_provenance_covers_every_shipped_file():
    text = (DATA / "PROVENANCE.md").read_text()
    shipped = [p for p in (DATA / "sources").rglob("*") if p.is_file()]
    shipped += [p for p in (DATA / "boundaries").iterdir() if p.is_file()]
    shipped.append(TABLE)
    missing = []
    for path in shipped:
        name = path.name
        if "police_uk" in path.parts:
            name = "police_uk/"
        if name not in text:
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"PROVENANCE.md does not describe: {missing}"
    assert "Open Government Licence v3.0" in text


def test_dat010_no_runtime_code_reads_shared():
    listed = subprocess.run(["git", "ls-files", "*.py", "Makefile", "*.toml"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    offenders = []
    for rel in listed:
        if rel.startswith(("tests/", "scripts/", "benchmarks/")):
            continue
        if re.search(r"\.\./shared|shared/data", (ROOT / rel).read_text()):
            offenders.append(rel)
    assert not offenders, f"runtime files refer to ../shared: {offenders}"
