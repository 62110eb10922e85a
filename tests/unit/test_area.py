"""Home areas: resolving any English county, force area, partnership, district or district list."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.settings import Settings, resolve_settings_areas
from profiler.__main__ import main
from profiler.area import AreaCatalogue, HomeArea
from profiler.errors import ProfilerError
from profiler.pipeline import score_scope, select_scope
from profiler.spec import load_spec
from profiler.table import load_indicator_table

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
TABLE = DATA / "indicators" / "lsoa21_indicators.csv"
LOOKUP = DATA / "sources" / "lad24_csp24_pfa24_ew.csv.gz"
pytestmark = pytest.mark.skipif(not (TABLE.exists() and LOOKUP.exists()),
                                reason="shipped indicator table or district lookup missing")


@pytest.fixture(scope="module")
def spec():
    return load_spec(DATA / "indicators" / "spec.toml")


@pytest.fixture(scope="module")
def table(spec):
    return load_indicator_table(TABLE, spec)


@pytest.fixture(scope="module")
def lookup():
    return pd.read_csv(LOOKUP, dtype=str)


@pytest.fixture(scope="module")
def cat(table, lookup):
    return AreaCatalogue.from_frames(table, lookup)


def partitions(area: HomeArea) -> bool:
    codes = [c for sub in area.subareas for c in sub.lsoa_codes]
    return sorted(codes) == list(area.lsoa_codes) and len(codes) == len(set(codes))


def test_area001_warwickshire(cat, table):
    area = cat.resolve("Warwickshire")
    assert (area.code, area.name, area.level) == ("E10000031", "Warwickshire", "county")
    assert len(area.lsoa_codes) == 354 and list(area.lsoa_codes) == sorted(area.lsoa_codes)
    assert area.lad_codes == ("E07000218", "E07000219", "E07000220", "E07000221", "E07000222")
    assert area.sub_level == "district" and len(area.subareas) == 5 and partitions(area)
    assert area.forces == (("E23000017", "Warwickshire"),)
    assert area.utlas == (("E10000031", "Warwickshire"),)
    assert set(area.lsoa_codes) == set(table.loc[table["utla_code"] == "E10000031",
                                                 "lsoa21_code"])
    # its police force area has the same LSOAs: one area, the county's code
    assert cat.resolve("E23000017") == area and cat.resolve("warwickshire police") == area
    assert area.slug == "warwickshire" and not area.unitary


def test_area002_worcestershire_two_tier_county(cat):
    area = cat.resolve("worcestershire")
    assert area == cat.resolve("E10000034")
    assert (area.code, area.level, len(area.districts)) == ("E10000034", "county", 6)
    assert area.forces == (("E23000016", "West Mercia"),)


def test_area003_west_mercia_force_spans_four_utlas(cat):
    area = cat.resolve("West Mercia")
    assert (area.code, area.level) == ("E23000016", "force")
    assert [c for c, _ in area.utlas] == ["E06000019", "E06000020", "E06000051", "E10000034"]
    assert len(area.districts) == 9 and area.sub_level == "district"
    assert len(area) == 804 and partitions(area)
    parts = sum(len(cat.resolve(c)) for c, _ in area.utlas)
    assert parts == len(area)


def test_area004_coventry_one_district_has_wards(cat):
    area = cat.resolve("Coventry")
    assert (area.code, area.level, area.sub_level) == ("E08000026", "county", "ward")
    assert area.unitary and area.districts == (("E08000026", "Coventry"),)
    assert len(area) == 203 and len(area.subareas) == 18 and partitions(area)
    assert all(sub.code.startswith("E05") for sub in area.subareas)
    # UTLA, LAD and CSP codes of Coventry are one area
    assert cat.resolve("E08000026") is area and cat.resolve("E22000336") is area
    ward = area.subareas[0]
    assert area.has_subarea(ward.code) and area.subarea(ward.code) is ward
    assert area.subarea(ward.name.upper()) is ward and not area.has_subarea("E05999999")
    with pytest.raises(ProfilerError, match=r"^ward 'E05999999': not a ward of Coventry"):
        area.subarea("E05999999")


def test_area005_south_warwickshire_csp_spans_two_districts(cat):
    area = cat.resolve("South Warwickshire")
    assert (area.code, area.level, area.lad_codes) == ("E22000359", "csp",
                                                       ("E07000221", "E07000222"))
    assert len(area) == 165 and partitions(area)
    assert cat.resolve("E07000222+E07000221") == area  # the same districts, the CSP's code
    assert cat.resolve("Warwick").level == "district" and len(cat.resolve("Warwick")) == 88


def test_area006_district_list(cat):
    area = cat.resolve("E08000026+E08000025")
    assert (area.code, area.name, area.level) == ("E08000025+E08000026",
                                                  "Birmingham and Coventry", "districts")
    assert len(area) == len(cat.resolve("Birmingham")) + len(cat.resolve("Coventry")) == 862
    assert cat.resolve("Birmingham, Coventry") == area == cat.resolve(area.code)
    assert area.sub_level == "district" and partitions(area)
    # the county's five districts listed are the county
    assert cat.resolve("North Warwickshire, Nuneaton and Bedworth, Rugby, Warwick, "
                       "Stratford-on-Avon").code == "E10000031"
    # a name holding a comma still works inside a list
    herefs = cat.resolve("Herefordshire, County of, Shropshire")
    assert herefs.code == "E06000019+E06000051" and herefs.name == "Herefordshire and Shropshire"


def test_area007_leicestershire_police_covers_leicester_and_rutland(cat):
    county = cat.resolve("Leicestershire")
    assert (county.code, county.level, len(county.districts)) == ("E10000018", "county", 7)
    force = cat.resolve("E23000021")
    assert cat.resolve("Leicestershire Police") == force == cat.resolve("force:leicestershire")
    assert force.level == "force" and force.name == "Leicestershire"
    assert [c for c, _ in force.utlas] == ["E06000016", "E06000017", "E10000018"]
    assert len(force) == len(county) + len(cat.resolve("Leicester")) + len(cat.resolve("Rutland"))
    for name, code in (("Leicester", "E06000016"), ("Rutland", "E06000017"),
                       ("Nottingham", "E06000018")):
        area = cat.resolve(name)
        assert (area.code, area.level, area.sub_level) == (code, "county", "ward")
        assert area.unitary and cat.resolve(code) is area


def test_area008_documented_order_and_one_area_per_lsoa_set(cat):
    assert cat.resolve("Dorset").code == "E06000059"  # UTLA (and LAD), not the force area
    # Dorset Police's LSOAs are Dorset CSP's (Dorset and BCP): one area, the CSP's code
    dorset_police = cat.resolve("force:Dorset")
    assert dorset_police.code == "E22000367" and dorset_police == cat.resolve("E23000039")
    assert dorset_police.forces == (("E23000039", "Dorset"),)
    assert cat.resolve("district:Dorset").code == "E06000059"
    # Barnsley: UTLA E08000038, LAD E08000016, the same LSOAs
    assert cat.resolve("E08000016") is cat.resolve("Barnsley")
    assert cat.resolve("Barnsley").code == "E08000038"
    assert cat.resolve("  west MERCIA ").code == "E23000016"
    assert cat.resolve("Devon and Cornwall") == cat.resolve("Devon & Cornwall")


def test_area009_errors_name_close_matches(cat):
    with pytest.raises(ProfilerError) as err:
        cat.resolve("Worcestshire")
    msg = str(err.value)
    assert msg.startswith("area 'Worcestshire': no English county, force area, partnership or "
                          "district of that name or code; did you mean Worcestershire "
                          "(E10000034)")
    assert "\n" not in msg and msg.count("(E") <= 3
    with pytest.raises(ProfilerError, match=r"'Birmingam': no English .*Birmingham \(E08000025\)"):
        cat.resolve("Birmingam+Coventry")
    with pytest.raises(ProfilerError, match=r"use a name like Warwickshire"):
        cat.resolve("xyzzy")
    with pytest.raises(ProfilerError, match=r"^area '': give"):
        cat.resolve("  ")
    with pytest.raises(ProfilerError, match=r"empty item"):
        cat.resolve("E08000025++E08000026")
    assert "Atlantis" not in cat and "Rugby" in cat


def test_area010_settings_resolve_and_name_the_setting(cat):
    default, allowed = resolve_settings_areas(Settings(), cat)
    assert default.code == "E10000031" and allowed is None
    s = Settings.from_env({"SVRP_AREA": "Coventry",
                           "SVRP_AREAS": "Warwickshire, Coventry, Herefordshire, County of, "
                                         "E08000025+E08000026"})
    default, allowed = resolve_settings_areas(s, cat)
    assert default.code == "E08000026"
    assert [a.code for a in allowed] == ["E10000031", "E08000026", "E06000019",
                                         "E08000025+E08000026"]
    with pytest.raises(ProfilerError, match=r"^SVRP_AREA: area 'Worcestshire': .*did you mean "
                                            r"Worcestershire \(E10000034\)"):
        resolve_settings_areas(Settings(area="Worcestshire"), cat)
    with pytest.raises(ProfilerError, match=r"^SVRP_AREAS: area 'Covntry'"):
        resolve_settings_areas(Settings(areas="Warwickshire, Covntry"), cat)
    with pytest.raises(ProfilerError, match=r"^SVRP_AREA='E10000031' \(Warwickshire "
                                            r"\(E10000031\)\) is not one of SVRP_AREAS"):
        resolve_settings_areas(Settings(areas="Coventry"), cat)


def test_area011_every_area_partitions_its_lsoas(cat, table):
    sizes = cat.sizes()
    assert sizes == {"county": 153, "district": 164, "csp": 11, "force": 30}
    seen = {}
    for level in ("county", "district", "csp", "force"):
        for area in cat.areas(level):
            assert area.level == level and partitions(area), area
            assert cat.resolve(area.code) is area
            assert area.sub_level == ("ward" if len(area.districts) == 1 else "district")
            seen[area.lsoa_codes] = area.code
    assert sum(len(a) for a in cat.areas("county")) == len(table) == 33_755
    assert len(seen) == sum(sizes.values())  # no two listed areas are the same LSOAs


def test_area012_catalogue_builds_fast(table, lookup):
    start = time.perf_counter()
    cat = AreaCatalogue.from_frames(table, lookup)
    cat.resolve("Warwickshire")
    assert time.perf_counter() - start < 0.5
    assert AreaCatalogue.load(DATA).resolve("Rugby").code == "E07000220"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_area013_property_any_area_partitions_its_lsoas(cat, data):
    lads = sorted(code for code, _ in cat.resolve("E23000001").districts)  # London's boroughs
    lads += [c for c, _ in cat.resolve("West Mercia").districts]
    chosen = data.draw(st.lists(st.sampled_from(lads), min_size=1, max_size=6, unique=True))
    area = cat.resolve("+".join(chosen))
    assert partitions(area)
    assert set(area.lad_codes) == set(chosen) or area.level == "county"
    assert cat.resolve(area.code) == area
    assert len(area) == sum(len(cat.resolve(c)) for c in chosen)


def test_area014_search_and_listing(cat):
    found = [a.code for a in cat.search("warw", limit=4)]
    assert found[:2] == ["E07000222", "E10000031"] and "E22000359" in found
    assert cat.search("E0800002", limit=3) and cat.search("") == []
    assert cat.search("West Mercia")[0].code == "E23000016"
    forces = cat.areas("force")
    assert "E23000016" in {a.code for a in forces} and "E23000017" not in {a.code for a in forces}
    with pytest.raises(ProfilerError, match="level 'ward'"):
        cat.areas("ward")
    geo = cat.geography(["E01031010", "E01999999"])
    assert geo.loc["E01031010", "utla_code"] == "E10000031" and pd.isna(geo.iloc[1]["lad24_code"])


def test_area015_pipeline_scores_a_home_area(cat, table, spec):
    warks = cat.resolve("Warwickshire")
    by_name = score_scope(table, spec, scope="warwickshire")
    by_area = score_scope(table, spec, scope=warks)
    pd.testing.assert_frame_equal(by_name, by_area)
    # for the county, fitted on the area itself is fitted on the county
    pd.testing.assert_frame_equal(score_scope(table, spec, scope=warks, reference="area"),
                                  by_area)
    by_codes = score_scope(table, spec, scope=list(warks.lsoa_codes), reference="area")
    pd.testing.assert_frame_equal(by_codes, by_area)
    mercia = cat.resolve("West Mercia")
    result = score_scope(table, spec, scope=mercia, reference="county")
    assert len(result) == len(mercia) and set(result["lsoa21_code"]) == set(mercia.lsoa_codes)
    own = table[["lsoa21_code", *(i.column for i in spec.indicators)]]
    assert len(select_scope(own, warks)) == 354
    with pytest.raises(ProfilerError, match=r"lacks 203 of the 203 LSOAs of Coventry"):
        select_scope(own.iloc[:100], cat.resolve("Coventry"))
    with pytest.raises(ProfilerError, match=r"reference 'county' needs the table's utla_code"):
        score_scope(own, spec, scope=warks, reference="county")


def test_area016_cli_own_table_and_area(table, spec, tmp_path, capsys):
    own = tmp_path / "own.csv"
    rows = table[table["utla_code"] == "E10000031"]
    rows[["lsoa21_code", *(i.column for i in spec.indicators)]].to_csv(own, index=False)
    out = tmp_path / "out.csv"
    for reference in ("county", "area", "england"):
        assert main(["score", "--indicators", str(own), "--reference", reference,
                     "--out", str(out)]) == 0
        assert len(pd.read_csv(out)) == 354
        assert "Total" in capsys.readouterr().out
    assert main(["export", "--indicators", str(own), "--out", str(tmp_path / "e.csv")]) == 0
    assert main(["summary", "--indicators", str(own), "--reference", "area"]) == 0
    assert "**Total**" in capsys.readouterr().out
    assert main(["score", "--area", "Coventry", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "scored 203 LSOAs" in printed and "ward24_name" in printed
    assert main(["score", "--scope", "Worcestshire", "--out", str(out)]) == 2
    assert "did you mean Worcestershire (E10000034)" in capsys.readouterr().err
