"""Contracts on the shipped police.uk store ``data/police/`` (scripts/import_police.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from profiler.police import (
    DROPPED,
    MANIFEST,
    PLACED,
    STORE_COLUMNS,
    Geography,
    import_street_files,
    imported,
    load_incidents,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
STORE = DATA / "police"
RAW = DATA / "sources" / "police_uk"
FIX = "run `python scripts/import_police.py` and commit data/police"


@pytest.fixture(scope="module")
def manifest():
    return imported(DATA)


@pytest.fixture(scope="module")
def geo():
    return Geography.load(DATA)


def test_polstore001_two_months_reimport_byte_identical(tmp_path, manifest, geo):
    sources = [RAW / "2024-03-warwickshire-street.csv.gz",
               RAW / "leicestershire" / "2020-03-leicestershire-street.csv.gz"]
    store = tmp_path / "police"
    import_street_files(sources, DATA, store_dir=store, geography=geo)
    for force, month in (("warwickshire", "2024-03"), ("leicestershire", "2020-03")):
        name = f"{force}/{month}.csv.gz"
        assert (store / name).read_bytes() == (STORE / name).read_bytes(), f"{name}: {FIX}"
        again = json.loads((store / MANIFEST).read_text())["forces"][force]
        assert again["months"][month] == manifest["forces"][force]["months"][month], FIX
        assert again["name"] == manifest["forces"][force]["name"]


def test_polstore002_manifest_matches_the_files(manifest):
    assert list(manifest["forces"]) == ["leicestershire", "warwickshire"]
    listed = {MANIFEST}
    for slug, force in manifest["forces"].items():
        per_lsoa = pd.Series(dtype="int64")
        for month, entry in force["months"].items():
            path = STORE / entry["file"]
            listed.add(entry["file"])
            blob = path.read_bytes()
            assert entry["bytes"] == len(blob), f"{path}: {FIX}"
            assert entry["sha256"] == hashlib.sha256(blob).hexdigest(), f"{path}: {FIX}"
            assert entry["file"] == f"{slug}/{month}.csv.gz"
            assert entry["source"] == f"{month}-{slug}-street.csv.gz"
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
            assert tuple(df.columns) == STORE_COLUMNS
            assert (df["month"] == month).all()
            assert entry["stored"] == len(df) == sum(entry["placed"].values())
            assert entry["rows"] == entry["stored"] + sum(entry["dropped"].values())
            assert set(entry["placed"]) == set(PLACED) and set(entry["dropped"]) == set(DROPPED)
            counts = df["placed"].value_counts()
            assert {k: int(counts.get(k, 0)) for k in PLACED} == entry["placed"]
            per_lsoa = per_lsoa.add(df["lsoa21_code"].value_counts(), fill_value=0)
        assert force["lsoa_records"] == {k: int(v) for k, v in per_lsoa.sort_index().items()}
    on_disk = {p.relative_to(STORE).as_posix() for p in STORE.rglob("*") if p.is_file()}
    assert on_disk == listed, "files in data/police not in the manifest (or missing)"


def test_polstore003_shipped_months_and_sources(manifest):
    warks = manifest["forces"]["warwickshire"]
    leics = manifest["forces"]["leicestershire"]
    assert warks["name"] == "Warwickshire Police" and leics["name"] == "Leicestershire Police"
    assert list(warks["months"]) == ["2018-10", "2018-11", "2018-12", "2019-01", "2019-02",
                                     "2024-01", "2024-02", "2024-03", "2024-04"]
    months = list(leics["months"])
    assert len(months) == 35 and months[0] == "2019-12" and months[-1] == "2022-10"
    assert list(pd.period_range("2019-12", "2022-10", freq="M").astype(str)) == months
    raw = sorted(p.name for p in RAW.rglob("*-street.csv.gz"))
    assert raw == sorted(e["source"] for f in (warks, leics) for e in f["months"].values())


def test_polstore004_records_are_on_english_2021_lsoas():
    codes = set(pd.read_csv(DATA / "indicators" / "lsoa21_indicators.csv",
                            usecols=["lsoa21_code"])["lsoa21_code"])
    df = load_incidents(DATA)
    assert set(df["lsoa21_code"].astype(str)) <= codes
    assert set(df["placed"].astype(str)) <= set(PLACED)
    located = df.dropna(subset=["longitude"])
    assert located["longitude"].between(-6.5, 2).all()
    assert located["latitude"].between(49.8, 56).all()
    assert (located["longitude"].round(5) == located["longitude"]).all()


def test_polstore005_import_counts(manifest):
    """The figures in data/PROVENANCE.md (and the issue's closing note)."""
    def total(slug, part, key=None):
        months = manifest["forces"][slug]["months"].values()
        return sum(m[part] if key is None else m[part][key] for m in months)

    assert total("warwickshire", "rows") == 38_486
    assert total("warwickshire", "placed", "kept") == 36_942
    assert total("warwickshire", "placed", "split_point") == 1_179
    assert total("warwickshire", "dropped", "no_location") == 294
    assert total("warwickshire", "dropped", "code_wales") == 6
    assert total("leicestershire", "rows") == 301_838
    assert total("leicestershire", "placed", "kept") == 257_752
    assert total("leicestershire", "placed", "merged") == 3_216
    assert total("leicestershire", "placed", "split_point") == 31_056
    assert total("leicestershire", "placed", "split_nearest") == 2_351
    assert total("leicestershire", "dropped", "no_location") == 7_463


@pytest.mark.slow
def test_polstore006_full_reimport_byte_identical(tmp_path, geo):
    """Every shipped month (about 7 s of CPU): the whole store, manifest included."""
    store = tmp_path / "police"
    import_street_files([RAW], DATA, store_dir=store, geography=geo)
    rebuilt = {p.relative_to(store).as_posix(): p.read_bytes() for p in store.rglob("*")
               if p.is_file()}
    shipped = {p.relative_to(STORE).as_posix(): p.read_bytes() for p in STORE.rglob("*")
               if p.is_file()}
    assert rebuilt.keys() == shipped.keys(), FIX
    changed = [k for k in rebuilt if rebuilt[k] != shipped[k]]
    assert not changed, f"{changed[:3]} differ: {FIX}"
