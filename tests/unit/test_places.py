"""The place index (profiler.places) and the ONS Postcode Directory import."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiler.__main__ import main
from profiler.area import AreaCatalogue
from profiler.errors import ProfilerError
from profiler.geometry import split_features
from profiler.places import (
    KINDS,
    POSTCODES_FILE,
    Place,
    PlaceIndex,
    compact,
    format_postcode,
    import_onspd,
    load_postcodes,
    lsoa_boxes,
    normalise,
    read_onspd,
    town_part,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
ONSPD = ROOT / "tests" / "data" / "onspd" / "ONSPD_SYNTHETIC_UK.csv"
COLUMNS = ["lsoa21_code", "lsoa21_name", "msoa21_code", "msoa21_name", "msoa21_hcl_name",
           "ward24_code", "ward24_name", "lad24_code", "lad24_name"]


@pytest.fixture(scope="module")
def shipped():
    table = pd.read_csv(DATA / "indicators" / "lsoa21_indicators.csv", dtype=str,
                        usecols=COLUMNS)
    features = split_features((DATA / "boundaries" / "england_lsoa21_web.geojson.gz")
                              .read_bytes())
    return table, features, AreaCatalogue.load(DATA)


def _index(shipped, area: str, postcodes=None) -> tuple[PlaceIndex, object]:
    table, features, catalogue = shipped
    home = catalogue.resolve(area)
    keep = set(home.lsoa_codes)
    boxes = lsoa_boxes({c: t for c, t in features.items() if c in keep})
    return PlaceIndex.from_table(table, boxes, keep, postcodes), home


@pytest.fixture(scope="module")
def warwickshire(shipped):
    return _index(shipped, "E10000031")


def _box(lsoa, index):
    return index.get(f"lsoa:{lsoa}").bbox


def _contains(outer, inner) -> bool:
    return (outer[0] <= inner[0] + 1e-9 and outer[1] <= inner[1] + 1e-9
            and outer[2] >= inner[2] - 1e-9 and outer[3] >= inner[3] - 1e-9)


# -- normalising -------------------------------------------------------------------------------


def test_plc001_normalise_ignores_case_accents_punctuation():
    assert normalise("  Bishop's  Itchington & Ufton ") == "bishop s itchington and ufton"
    assert normalise("Stratford-upon-Avon") == normalise("stratford upon avon")
    assert normalise("Ésté") == "este"
    assert compact("cv34 5ab") == compact("CV345AB") == "cv345ab"
    assert format_postcode(" cv3 45ab ") == "CV34 5AB"
    assert format_postcode("B25 9ZZ") == "B25 9ZZ"
    assert format_postcode("not a code") is None and format_postcode("E01031010") is None


@given(st.text(max_size=40))
def test_plc002_normalise_is_idempotent_and_case_blind(text):
    once = normalise(text)
    assert normalise(once) == once
    assert normalise(text.upper()) == normalise(text.lower()) or not text.isascii()
    assert "  " not in once and once == once.strip()


def test_plc003_town_part_of_msoa_names():
    assert town_part("Kenilworth East") == "Kenilworth"
    assert town_part("Nuneaton Town Centre") == "Nuneaton"
    assert town_part("New Bilton & Overslade") is None  # "New Bilton" is the whole first part
    assert town_part("New Arley Village & Fillongley") == "New Arley"
    assert town_part("Town East") is None
    assert town_part("Lillington") is None


# -- the index from the shipped data -------------------------------------------------------------


def test_plc004_index_covers_every_kind_of_the_area(warwickshire):
    index, home = warwickshire
    counts = index.counts()
    assert list(counts) == list(KINDS)
    assert counts["lsoa"] == len(home.lsoa_codes)
    assert counts["district"] == len(home.districts)
    for kind in ("town", "ward", "msoa"):
        assert counts[kind] > 0, kind
    assert counts["postcode"] == 0  # none imported
    offered = set(home.lsoa_codes)
    for place in index.places_:
        assert place.lsoas and set(place.lsoas) <= offered, place
        assert list(place.lsoas) == sorted(place.lsoas)
        s, w, n, e = place.bbox
        assert s < n and w < e
        for lsoa in place.lsoas:
            assert _contains(place.bbox, _box(lsoa, index)), (place, lsoa)


def test_plc005_camp_hill_ward_lillington_and_codes(warwickshire, shipped):
    index, _ = warwickshire
    table = shipped[0]
    camp = index.search("Camp Hill")
    assert camp[0].how == "exact" and camp[0].place.name == "Camp Hill"
    msoa = next(m.place for m in camp if m.place.kind == "msoa")
    assert set(msoa.lsoas) == set(table.loc[table["msoa21_hcl_name"] == "Camp Hill",
                                            "lsoa21_code"])
    lill = index.search("lillington")
    assert {m.place.kind for m in lill if "Lillington" in m.place.name} >= {"msoa", "ward"}
    code = msoa.lsoas[0]
    for typed in (code, code.lower(), f" {code[:3]} {code[3:]} "):
        assert index.search(typed)[0].place.key == f"lsoa:{code}", typed
    ward = next(p for p in index.places_ if p.kind == "ward")
    assert index.search(ward.name.upper())[0].place.name == ward.name
    assert index.search(ward.code)[0].place == ward


def test_plc006_towns_are_unions_of_their_msoas(warwickshire, shipped):
    index, _ = warwickshire
    table = shipped[0]
    town = index.search("Kenilworth")[0]
    assert town.place.kind == "town" and town.how == "exact"
    names = table.loc[table["msoa21_hcl_name"].str.startswith("Kenilworth ")]
    assert set(town.place.lsoas) == set(names["lsoa21_code"])


def test_plc007_ranking_exact_prefix_word_fuzzy():
    box = (52.0, -1.6, 52.1, -1.5)
    places = [Place(kind, code, name, ("E01000001",), box) for kind, code, name in [
        ("ward", "E05000001", "Hill"),
        ("msoa", "E02000001", "Hillmorton"),
        ("ward", "E05000002", "Camp Hill"),
        ("district", "E07000001", "Hull"),
        ("lsoa", "E01000001", "Hillside 001A"),
    ]]
    index = PlaceIndex(places)
    found = [(m.place.name, m.how) for m in index.search("hill")]
    assert found[0] == ("Hill", "exact")
    assert [n for n, how in found if how == "prefix"] == ["Hillmorton", "Hillside 001A"]
    assert ("Camp Hill", "word") in found
    assert all(how != "fuzzy" for _, how in found)  # nothing fuzzy beside an exact match
    assert [(m.place.name, m.how) for m in index.search("huell")] == [("Hull", "fuzzy")]
    tiers = [m.tier for m in index.search("hill")]
    assert tiers == sorted(tiers)
    assert index.search("") == [] and index.search("   ") == []


def test_plc008_any_home_area(shipped):
    index, home = _index(shipped, "E10000034")  # Worcestershire
    assert index.counts()["district"] == len(home.districts)
    name = home.districts[0][1]
    assert index.search(name)[0].place.kind == "district"
    assert not any(m.place.name == "Camp Hill" for m in index.search("Camp Hill"))


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(data=st.data())
def test_plc009_any_place_is_found_exactly_however_typed(warwickshire, data):
    index, _ = warwickshire
    place = data.draw(st.sampled_from([p for p in index.places_ if p.kind != "town"]))
    typed = data.draw(st.sampled_from([place.name.upper(), place.name.lower(),
                                       f"  {place.name}  ", place.name.replace(" ", "  "),
                                       place.name.replace("&", "and"), place.code.lower()]))
    matches = index.search(typed, limit=50)
    assert matches and matches[0].tier == 0
    assert place in [m.place for m in matches if m.tier == 0], typed


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=30))
def test_plc010_search_never_fails_and_is_ranked(warwickshire, query):
    index, _ = warwickshire
    matches = index.search(query, limit=8)
    assert len(matches) <= 8
    assert [m.tier for m in matches] == sorted(m.tier for m in matches)


# -- postcodes ---------------------------------------------------------------------------------


def test_pc001_import_keeps_live_postcodes_of_the_area(tmp_path, warwickshire):
    index, home = warwickshire
    report = import_onspd(ONSPD, tmp_path, home.lsoa_codes)
    assert report.path == tmp_path / POSTCODES_FILE
    frame = load_postcodes(tmp_path)
    assert list(frame["postcode"]) == ["CV11 9ZA", "CV11 9ZB", "CV21 9ZA", "CV32 9ZA"]
    assert set(frame["lsoa21_code"]) <= set(home.lsoa_codes)
    assert (report.rows, report.kept, report.terminated) == (10, 4, 1)
    assert report.no_location == 2 and report.outside == 3
    again = tmp_path / "again.csv.gz"
    import_onspd(ONSPD, tmp_path, home.lsoa_codes, out=again)
    assert again.read_bytes() == (tmp_path / POSTCODES_FILE).read_bytes()  # reproducible


def test_pc002_terminated_and_unlocated_postcodes_dropped(tmp_path, warwickshire):
    _, home = warwickshire
    frame, _ = read_onspd(ONSPD, home.lsoa_codes)
    assert "CV21 9ZB" not in set(frame["postcode"])  # doterm 202311
    assert "CV21 9ZD" not in set(frame["postcode"])  # 99.999999, 0: no grid reference
    assert frame["lat"].between(49, 61).all()


def test_pc003_bad_header_names_file_column_and_fix(tmp_path):
    bad = tmp_path / "ONSPD_BAD.csv"
    bad.write_text(ONSPD.read_text().replace("lsoa21", "lsoa_2021", 1))
    with pytest.raises(ProfilerError, match=r"ONSPD_BAD\.csv: no lsoa21/lsoa21cd column.*"
                                            r"ONS Postcode Directory"):
        read_onspd(bad, ["E01031073"])
    assert "\n" not in str(pytest.raises(ProfilerError, read_onspd, bad, ["E01031073"]).value)


def test_pc004_bad_lsoa_codes_are_named(tmp_path):
    bad = tmp_path / "ONSPD_BAD.csv"
    bad.write_text(ONSPD.read_text().replace("E01031073", "Camp Hill"))
    with pytest.raises(ProfilerError, match=r"column lsoa21: 1 values are not LSOA codes "
                                            r"\(first: 'Camp Hill'\)"):
        read_onspd(bad, ["E01031074"])


def test_pc005_gzip_zip_and_2025_column_names(tmp_path, warwickshire):
    _, home = warwickshire
    text = ONSPD.read_text()
    gz = tmp_path / "ONSPD.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    new = tmp_path / "ONSPD_NEW.csv"
    header, rest = text.split("\n", 1)
    new.write_text(header.upper().replace("LSOA21", "LSOA21CD").replace("PCD,", "PCD7,") + "\n"
                   + rest)
    zipped = tmp_path / "ONSPD_NOV_2025.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.write(ONSPD, "Data/ONSPD_SYNTHETIC_UK.csv")
        zf.writestr("Documents/readme.txt", "docs")
    for path in (gz, new, zipped):
        frame, report = read_onspd(path, home.lsoa_codes)
        assert len(frame) == 4 and report.terminated == 1, path


def test_pc006_index_finds_imported_postcodes_in_any_spacing(shipped, warwickshire, tmp_path):
    _, home = warwickshire
    import_onspd(ONSPD, tmp_path, home.lsoa_codes)
    index, _ = _index(shipped, "E10000031", load_postcodes(tmp_path))
    assert index.counts()["postcode"] == 4
    for typed in ("CV11 9ZA", "cv119za", "cv11  9za", " Cv1 19ZA"):
        match = index.search(typed)[0]
        assert match.place.key == "postcode:CV11 9ZA" and match.how == "exact", typed
    place = index.get("postcode:CV11 9ZA")
    assert place.lsoas == ("E01031073",) and place.point == (52.53705, -1.50031)
    s, w, n, e = place.bbox
    assert s <= place.point[0] <= n and w <= place.point[1] <= e
    assert index.search("CV11")[0].place.kind == "postcode"


def test_pc007_cli_import_and_one_line_error(tmp_path, capsys):
    lookup = "lad24_csp24_pfa24_ew.csv.gz"
    shutil.copytree(DATA / "sources", tmp_path / "sources",
                    ignore=lambda _d, names: [n for n in names if n != lookup])
    (tmp_path / "indicators").mkdir()
    (tmp_path / "indicators" / "lsoa21_indicators.csv").symlink_to(
        DATA / "indicators" / "lsoa21_indicators.csv")
    assert main(["postcodes", "import", str(ONSPD), "--data", str(tmp_path),
                 "--area", "Warwickshire,Worcestershire"]) == 0
    out = capsys.readouterr().out
    assert "5 live postcodes kept" in out
    assert len(load_postcodes(tmp_path)) == 5
    assert main(["postcodes", "import", str(tmp_path / "missing.csv"), "--data",
                 str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "missing.csv: file not found" in err
    assert len(err.splitlines()) == 1


def test_plc011_places_on_the_map_first_and_fuzzy_only_without_better(warwickshire):
    box = (52.0, -1.6, 52.1, -1.5)
    index = PlaceIndex([Place("ward", "E05000001", "Abbey", ("E01000001",), box),
                        Place("ward", "E05000002", "Abbey", ("E01000002",), box)])
    assert index.search("abbey", prefer={"E01000002"})[0].place.code == "E05000002"
    assert index.search("abbey", prefer=["E01000001"])[0].place.code == "E05000001"
    # an exact match leaves out look-alikes; a typo finds the right place
    shipped_index, _ = warwickshire
    assert all(m.how != "fuzzy" for m in shipped_index.search("Camp Hill", limit=20))
    assert shipped_index.search("Lilington")[0].place.name == "Lillington"


# -- the search box's callback inputs (dashboard.inputs) ----------------------------------------


def _body(ident: str, value) -> bytes:
    import json

    return json.dumps({"output": "x.children", "outputs": {"id": "x", "property": "children"},
                       "inputs": [{"id": ident, "property": "data", "value": value}],
                       "changedPropIds": [f"{ident}.data"]}).encode()


@pytest.mark.parametrize("key", ["ovw", "dst", "exp"])
def test_plc012_search_inputs_are_shape_checked(key):
    from dashboard.inputs import BadInput, parse_body

    parse_body(_body(f"{key}-search-query", "camp hill"))
    parse_body(_body(f"{key}-search-query", None))
    parse_body(_body(f"{key}-search-pick", {"key": "msoa:E02006476", "n": 3}))
    for ident, value in ((f"{key}-search-query", "x" * 101),
                         (f"{key}-search-query", {"q": "camp"}),
                         (f"{key}-search-pick", {"key": "k" * 201, "n": 1}),
                         (f"{key}-search-pick", {"n": 1}),
                         (f"{key}-search-pick", {"key": "lsoa:E01031010", "n": -1}),
                         (f"{key}-search-pick", {"key": "lsoa:E01031010", "x": 1})):
        with pytest.raises(BadInput):
            parse_body(_body(ident, value))
