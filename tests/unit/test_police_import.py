"""police.uk import for any force (``python -m profiler police import``) and the store loaders.

Fixtures are a few real rows of the shipped raw copies (Warwickshire 2024, 2021 codes;
Leicestershire 2019-12, 2011 codes), written into ``tmp_path`` as police.uk names them.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import shapely

from profiler.__main__ import main
from profiler.errors import ProfilerError
from profiler.police import (
    DROPPED,
    PLACED,
    STREET_COLUMNS,
    Geography,
    forces_covering,
    import_street_files,
    imported,
    incident_counts,
    load_incidents,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
RAW = DATA / "sources" / "police_uk"
WARKS = RAW / "2024-01-warwickshire-street.csv.gz"
LEICS = RAW / "leicestershire" / "2019-12-leicestershire-street.csv.gz"
SPLIT = "E01025717"  # Charnwood 009D (2011), split into E01034002 and E01034003
MERGED = "E01013647"  # Leicester 040B (2011), merged into E01034020


def _raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write(df: pd.DataFrame, path: Path, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = df.to_csv(index=False, lineterminator="\r\n").encode()
    path.write_bytes(gzip.compress(text, mtime=0) if gz else text)
    return path


@pytest.fixture(scope="module")
def geo():
    return Geography.load(DATA)


@pytest.fixture(scope="module")
def warks_rows():
    df = _raw(WARKS)
    # a few located rows and one without location, as police.uk gives them
    return pd.concat([df[df["LSOA code"] != ""].head(8), df[df["LSOA code"] == ""].head(1)])


@pytest.fixture(scope="module")
def leics_rows():
    df = _raw(LEICS)
    kept = df[df["LSOA code"] == "E01025631"].head(3)
    split = df[df["LSOA code"] == SPLIT].head(6)
    merged = df[df["LSOA code"] == MERGED].head(2)
    return pd.concat([kept, split, merged])


def _import(paths, tmp_path, geo, **kw):
    return import_street_files(paths, DATA, store_dir=tmp_path / "data" / "police",
                               geography=geo, **kw)


def _snapshot(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _stored(tmp_path: Path, force: str, month: str) -> pd.DataFrame:
    return pd.read_csv(tmp_path / "data" / "police" / force / f"{month}.csv.gz", dtype=str,
                       keep_default_na=False)


def test_pol001_columns_validated(tmp_path, geo, warks_rows, capsys):
    bad = _write(warks_rows.drop(columns=["LSOA code", "Crime type"]),
                 tmp_path / "in" / "2024-01-warwickshire-street.csv")
    with pytest.raises(ProfilerError, match=r"2024-01-warwickshire-street\.csv: not a police\.uk "
                       r"street file: missing column\(s\) 'LSOA code', 'Crime type'.*data\.police"):
        _import([bad], tmp_path, geo)
    extra = _write(warks_rows.assign(Extra="x"),
                   tmp_path / "in2" / "2024-01-warwickshire-street.csv")
    with pytest.raises(ProfilerError, match=r"unexpected column\(s\) 'Extra'"):
        _import([extra], tmp_path, geo)
    # the CLI: one line on stderr, status 2
    assert main(["police", "import", str(bad), "--data", str(DATA),
                 "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {bad}: not a police.uk street file") and "\n" not in err
    assert not (tmp_path / "s").exists() and not (tmp_path / "data").exists()


def test_pol002_non_street_files_refused(tmp_path, geo, warks_rows):
    for name in ("crimes.csv", "2024-01-warwickshire-outcomes.csv",
                 "2024-13-warwickshire-street.csv", "2024-01-Warwickshire-street.csv"):
        path = _write(warks_rows, tmp_path / name)
        with pytest.raises(ProfilerError, match=r"not a police\.uk street file name"):
            _import([path], tmp_path, geo)
    # an outcomes file read as a street file by its name is refused by its columns
    outcomes = pd.DataFrame({"Crime ID": ["x"], "Month": ["2024-01"], "Outcome type": ["y"]})
    path = _write(outcomes, tmp_path / "o" / "2024-01-warwickshire-street.csv")
    with pytest.raises(ProfilerError, match="missing column"):
        _import([path], tmp_path, geo)
    # a stray CSV in a folder is refused; a non-CSV file is ignored
    folder = tmp_path / "dl"
    _write(warks_rows, folder / "2024-01" / "2024-01-warwickshire-street.csv")
    (folder / "README.txt").write_text("notes")
    _write(warks_rows, folder / "notes.csv")
    with pytest.raises(ProfilerError, match=r"notes\.csv: not a police\.uk street file name"):
        _import([folder], tmp_path, geo)
    with pytest.raises(ProfilerError, match="not found"):
        _import([tmp_path / "missing"], tmp_path, geo)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ProfilerError, match="no YYYY-MM-<force>-street.csv file inside"):
        _import([empty], tmp_path, geo)
    assert not (tmp_path / "data").exists()


def test_pol003_mixed_months_and_bad_values_refused(tmp_path, geo, warks_rows):
    mixed = warks_rows.copy()
    mixed.iloc[2, mixed.columns.get_loc("Month")] = "2024-02"
    path = _write(mixed, tmp_path / "2024-01-warwickshire-street.csv")
    with pytest.raises(ProfilerError, match=r"column Month: '2024-02' in row\(s\) 4 but the file "
                       r"name says 2024-01; a street file holds one month"):
        _import([path], tmp_path, geo)
    bad = warks_rows.copy()
    bad.iloc[1, bad.columns.get_loc("Longitude")] = "west"
    path = _write(bad, tmp_path / "b" / "2024-01-warwickshire-street.csv")
    with pytest.raises(ProfilerError, match=r"column Longitude: 'west' in row\(s\) 3 not a number"):
        _import([path], tmp_path, geo)
    blank = warks_rows.copy()
    blank.iloc[0, blank.columns.get_loc("Crime type")] = ""
    path = _write(blank, tmp_path / "c" / "2024-01-warwickshire-street.csv")
    with pytest.raises(ProfilerError, match=r"column Crime type: blank in row\(s\) 2"):
        _import([path], tmp_path, geo)
    assert not (tmp_path / "data").exists()


def test_pol004_unreadable_file_refused(tmp_path, geo):
    path = tmp_path / "2024-01-warwickshire-street.csv.gz"
    path.write_bytes(b"\x1f\x8b" + b"not really gzip")
    with pytest.raises(ProfilerError, match=r"street\.csv\.gz: cannot read gzip"):
        _import([path], tmp_path, geo)
    path = tmp_path / "x" / "2024-01-warwickshire-street.csv"
    path.parent.mkdir()
    path.write_bytes(b"Crime ID,Month\n\xff\xfe\x00bad\n")
    with pytest.raises(ProfilerError, match="not UTF-8 text"):
        _import([path], tmp_path, geo)
    path = tmp_path / "y" / "2024-01-warwickshire-street.csv"
    path.parent.mkdir()
    path.write_bytes(b"")
    with pytest.raises(ProfilerError, match="empty file"):
        _import([path], tmp_path, geo)
    bad_zip = tmp_path / "download.zip"
    bad_zip.write_bytes(b"PK not a zip")
    with pytest.raises(ProfilerError, match=r"download\.zip: cannot read zip"):
        _import([bad_zip], tmp_path, geo)


def test_pol005_overlap_refused_and_nothing_changed(tmp_path, geo, warks_rows, leics_rows):
    first = _write(warks_rows, tmp_path / "a" / "2024-01-warwickshire-street.csv")
    _import([first], tmp_path, geo)
    store = tmp_path / "data" / "police"
    before = _snapshot(store)
    other = _write(leics_rows, tmp_path / "b" / "2019-12-leicestershire-street.csv")
    again = _write(warks_rows.head(3), tmp_path / "b" / "2024-01-warwickshire-street.csv.gz",
                   gz=True)
    with pytest.raises(ProfilerError, match=r"2024-01-warwickshire-street\.csv\.gz: warwickshire "
                       r"2024-01 is already imported .*pass --replace"):
        _import([other, again], tmp_path, geo)
    assert _snapshot(store) == before
    assert sorted(p.name for p in store.parent.iterdir()) == ["police"], "temp folder left"
    # the same month twice in one input is refused too
    with pytest.raises(ProfilerError, match="is also given as"):
        _import([other, other], tmp_path, geo)
    # --replace re-imports deliberately; the other force is added beside
    report = _import([other, again], tmp_path, geo, replace=True)
    assert [m.stored for m in report.months] == [11, 3]
    manifest = imported(tmp_path / "data")
    assert list(manifest["forces"]) == ["leicestershire", "warwickshire"]
    assert manifest["forces"]["warwickshire"]["months"]["2024-01"]["stored"] == 3
    assert manifest["forces"]["warwickshire"]["months"]["2024-01"]["source"] == \
        "2024-01-warwickshire-street.csv.gz"
    assert sorted(p.name for p in store.parent.iterdir()) == ["police"]


def test_pol006_zip_folder_and_files_give_the_same_store(tmp_path, geo, warks_rows, leics_rows):
    # a police.uk download: YYYY-MM/YYYY-MM-<force>-street.csv, plus outcomes files (skipped)
    dl = tmp_path / "download"
    w = _write(warks_rows, dl / "2024-01" / "2024-01-warwickshire-street.csv")
    lc = _write(leics_rows, dl / "2019-12" / "2019-12-leicestershire-street.csv")
    _write(pd.DataFrame({"Crime ID": ["x"]}), dl / "2024-01" / "2024-01-warwickshire-outcomes.csv")
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(dl.rglob("*.csv")):
            z.write(p, p.relative_to(dl).as_posix())
    stores = {}
    for name, paths in {"zip": [archive], "folder": [dl], "files": [lc, w],
                        "gz": [_write(leics_rows, tmp_path / "g" / (lc.name + ".gz"), gz=True),
                               _write(warks_rows, tmp_path / "g" / (w.name + ".gz"), gz=True)]
                        }.items():
        out = tmp_path / name
        _import(paths, out, geo)
        stores[name] = _snapshot(out / "data" / "police")
    assert set(stores["zip"]) == {"manifest.json", "warwickshire/2024-01.csv.gz",
                                  "leicestershire/2019-12.csv.gz"}
    # only the manifest's source names (.csv vs .csv.gz) differ between the inputs
    strip = {k: v for k, v in stores["zip"].items() if k != "manifest.json"}
    for name in ("folder", "files", "gz"):
        assert {k: v for k, v in stores[name].items() if k != "manifest.json"} == strip
    assert stores["folder"] == stores["zip"] == stores["files"]


def test_pol007_2011_codes_converted_including_a_split(tmp_path, geo, leics_rows):
    assert geo.pieces[SPLIT] == ("E01034002", "E01034003")
    assert geo.pieces[MERGED] == ("E01034020",)
    no_point = leics_rows[leics_rows["LSOA code"] == SPLIT].head(1).assign(Longitude="",
                                                                          Latitude="")
    rows = pd.concat([leics_rows, no_point])
    path = _write(rows, tmp_path / "2019-12-leicestershire-street.csv")
    report = _import([path], tmp_path, geo)
    month = report.months[0]
    assert month.rows == 12 and month.stored == 12
    out = _stored(tmp_path, "leicestershire", "2019-12")
    assert out.loc[out["placed"] == "kept", "lsoa21_code"].eq("E01025631").sum() == 3
    assert (out.loc[out["placed"] == "merged", "lsoa21_code"] == "E01034020").sum() == 2
    split = out[out["placed"].isin(["split_point", "split_nearest"])]
    assert len(split) == 6 and set(split["lsoa21_code"]) <= set(geo.pieces[SPLIT])
    for _, r in split[split["placed"] == "split_point"].iterrows():
        polygon = geo.geometry[geo.index_of(r["lsoa21_code"])]
        assert polygon.intersects(shapely.Point(float(r["longitude"]), float(r["latitude"])))
    # no point: the piece with the most Census 2021 households (CodeLookup.largest_part)
    households = out[out["placed"] == "split_households"]
    assert households["lsoa21_code"].tolist() == [geo.largest_part[SPLIT]]
    assert households[["longitude", "latitude"]].eq("").all(axis=None)
    assert month.placed["merged"] == 2 and month.placed["split_households"] == 1


def test_pol008_point_in_polygon_without_a_code(tmp_path, geo, warks_rows):
    located = warks_rows[warks_rows["LSOA code"] != ""].head(4)
    blanked = located.assign(**{"LSOA code": "", "LSOA name": ""})
    outside = located.head(1).assign(**{"LSOA code": "", "Longitude": "-1.000000",
                                        "Latitude": "50.000000"})  # the English Channel
    path = _write(pd.concat([blanked, outside]), tmp_path / "2024-01-warwickshire-street.csv")
    report = _import([path], tmp_path, geo)
    assert report.months[0].placed["point"] == 4
    assert report.months[0].dropped["point_outside"] == 1
    out = _stored(tmp_path, "warwickshire", "2024-01")
    for _, r in out.iterrows():
        polygon = geo.geometry[geo.index_of(r["lsoa21_code"])]
        assert polygon.intersects(shapely.Point(float(r["longitude"]), float(r["latitude"])))
    # the 200 m generalised polygons agree with police.uk's own codes for these points
    assert sorted(out["lsoa21_code"]) == sorted(located["LSOA code"])


def test_pol009_dropped_reasons_counted(tmp_path, geo, warks_rows):
    base = warks_rows[warks_rows["LSOA code"] != ""].head(2)
    rows = pd.concat([
        base,
        base.head(1).assign(**{"LSOA code": "", "Longitude": "", "Latitude": ""}),
        base.head(1).assign(**{"LSOA code": "W01000544"}),
        base.head(1).assign(**{"LSOA code": "E01999999"}),
    ])
    path = _write(rows, tmp_path / "2024-01-warwickshire-street.csv")
    report = _import([path], tmp_path, geo)
    m = report.months[0]
    assert m.dropped == {"no_location": 1, "code_wales": 1, "code_unknown": 1,
                         "point_outside": 0}
    assert m.rows == 5 and m.stored == 2 and set(m.placed) == set(PLACED)
    entry = imported(tmp_path / "data")["forces"]["warwickshire"]["months"]["2024-01"]
    assert entry["dropped"] == m.dropped and set(entry["dropped"]) == set(DROPPED)
    table = report.table()
    assert table.loc["dropped: code_wales", "warwickshire"] == 1
    assert table.loc["stored", "warwickshire"] == 2


def test_pol010_output_is_deterministic(tmp_path, geo, warks_rows, leics_rows):
    a = _write(warks_rows, tmp_path / "in" / "2024-01-warwickshire-street.csv")
    b = _write(leics_rows, tmp_path / "in" / "2019-12-leicestershire-street.csv")
    shuffled = _write(warks_rows.sample(frac=1, random_state=1),
                      tmp_path / "in2" / "2024-01-warwickshire-street.csv")
    _import([a, b], tmp_path / "one", geo)
    _import([b, shuffled], tmp_path / "two", geo)
    one = _snapshot(tmp_path / "one" / "data" / "police")
    two = _snapshot(tmp_path / "two" / "data" / "police")
    assert one == two
    blob = one["warwickshire/2024-01.csv.gz"]
    assert blob[4:8] == b"\0\0\0\0", "gzip mtime must be 0"
    text = gzip.decompress(blob).decode()
    assert text.splitlines()[0] == "month,crime_type,longitude,latitude,lsoa21_code,placed"
    out = pd.read_csv(io_bytes(blob), dtype=str, keep_default_na=False)
    assert out["longitude"].str.fullmatch(r"-?\d+\.\d{5}|").all()
    keys = out[["lsoa21_code", "crime_type"]].apply(tuple, axis=1).tolist()
    assert keys == sorted(keys)
    manifest = json.loads(one["manifest.json"])
    entry = manifest["forces"]["warwickshire"]["months"]["2024-01"]
    assert entry["bytes"] == len(blob) and entry["stored"] == len(out)


def io_bytes(blob: bytes) -> io.BytesIO:
    return io.BytesIO(gzip.decompress(blob))


def test_pol011_loader_filters(tmp_path, geo, warks_rows, leics_rows):
    assert imported(tmp_path / "data")["forces"] == {}
    assert load_incidents(tmp_path / "data").empty
    a = _write(warks_rows, tmp_path / "in" / "2024-01-warwickshire-street.csv")
    b = _write(leics_rows, tmp_path / "in" / "2019-12-leicestershire-street.csv")
    _import([a, b], tmp_path, geo)
    data = tmp_path / "data"
    everything = load_incidents(data)
    assert list(everything.columns) == ["force", "month", "crime_type", "lsoa21_code", "placed",
                                        "longitude", "latitude"]
    assert len(everything) == 8 + 11
    assert str(everything["longitude"].dtype) == "float64"
    forces = everything["force"].astype(str).tolist()
    assert forces == ["leicestershire"] * 11 + ["warwickshire"] * 8
    assert set(load_incidents(data, forces="warwickshire")["month"]) == {"2024-01"}
    assert load_incidents(data, months=["2019-12"])["force"].eq("leicestershire").all()
    assert load_incidents(data, months=["2030-01"]).empty
    pieces = list(geo.pieces[SPLIT])
    some = load_incidents(data, lsoa_codes=pieces)
    assert len(some) == 6 and set(some["lsoa21_code"]) <= set(pieces)
    asb = load_incidents(data, crime_types="Anti-social behaviour")
    assert asb["crime_type"].eq("Anti-social behaviour").all() and len(asb) > 0
    both = load_incidents(data, lsoa_codes=pieces, forces=["warwickshire"])
    assert both.empty
    with pytest.raises(ProfilerError, match=r"force\(s\) 'met' not imported; imported: "
                       "leicestershire, warwickshire"):
        load_incidents(data, forces="met")
    with pytest.raises(ProfilerError, match="not YYYY-MM"):
        load_incidents(data, months="2024-1")
    counts = incident_counts(data)
    assert list(counts.columns) == ["lsoa21_code", "month", "crime_type", "count"]
    assert counts["count"].sum() == len(everything) and (counts["count"] > 0).all()
    expected = everything.groupby(["lsoa21_code", "month", "crime_type"], observed=True).size()
    assert counts.set_index(["lsoa21_code", "month", "crime_type"])["count"].sort_index().equals(
        expected.sort_index().astype("int64").rename("count"))
    assert forces_covering(data, pieces) == {"leicestershire": 6}
    warks = set(everything.loc[everything["force"] == "warwickshire", "lsoa21_code"])
    assert list(forces_covering(data, warks)) == ["warwickshire"]
    assert forces_covering(data, ["E01000001"]) == {}


def test_pol012_a_bad_file_among_good_ones_writes_nothing(tmp_path, geo, warks_rows, leics_rows):
    good = _write(leics_rows, tmp_path / "in" / "2019-12-leicestershire-street.csv")
    bad = _write(warks_rows.drop(columns=["Context"]),
                 tmp_path / "in" / "2024-01-warwickshire-street.csv")
    with pytest.raises(ProfilerError, match="missing column.*'Context'"):
        _import([tmp_path / "in"], tmp_path, geo)
    assert not (tmp_path / "data").exists()
    _import([good], tmp_path, geo)
    before = _snapshot(tmp_path / "data" / "police")
    with pytest.raises(ProfilerError):
        _import([bad], tmp_path, geo)
    assert _snapshot(tmp_path / "data" / "police") == before


def test_pol013_cli_import_prints_the_table(tmp_path, warks_rows, leics_rows, capsys):
    a = _write(warks_rows, tmp_path / "in" / "2024-01-warwickshire-street.csv")
    b = _write(leics_rows, tmp_path / "in" / "2019-12-leicestershire-street.csv")
    store = tmp_path / "store"
    assert main(["police", "import", str(a), str(b), "--data", str(DATA),
                 "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "imported 2 file(s), 2 force(s), 2019-12..2024-01" in out
    assert "moved: split_point" in out and "dropped: no_location" in out and "total" in out
    assert (store / "manifest.json").exists()
    assert main(["police", "import", str(a), "--data", str(DATA), "--store", str(store)]) == 2
    assert "already imported" in capsys.readouterr().err
    assert main(["police", "list", "--data", str(tmp_path / "nothing")]) == 0
    assert "no police.uk data imported" in capsys.readouterr().out
    assert main(["police", "list", "--data", str(DATA)]) == 0
    assert "leicestershire (Leicestershire Police): 35 month(s) 2019-12..2022-10" in \
        capsys.readouterr().out
    assert STREET_COLUMNS[0] == "Crime ID"


def test_pol014_police_module_is_pure():
    code = ("import sys, profiler.police; "
            "bad = [m for m in sys.modules if m == 'dash' or m.startswith(('dash.', 'dash_'))]; "
            "sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0
