"""One-off import of the open data the project ships, from the team's shared data folder.

Run from the repository root:  .venv/bin/python scripts/import_shared_data.py [../shared/data]

CSV sources are copied unchanged inside deterministic gzip files (mtime 0) to data/sources/;
boundaries are converted to GeoPackages with normalised column names in data/boundaries/. The app
and the tests never read the shared folder: they read only what this script wrote into data/.
"""

from __future__ import annotations

import gzip
import shutil
import sys
from pathlib import Path

import geopandas as gpd
import shapely

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    "indicators/iod2025_lsoa21_underlying_indicators.csv",
    "indicators/iod2025_lsoa21_scores_ranks_deciles.csv",
    "indicators/iod2025_lsoa21_subdomains.csv",
    "indicators/census21_household_deprivation_dimensions_lsoa21.csv",
    "indicators/iod2019_lsoa11_file2_domains_ranks_deciles.csv",
    "indicators/iod2019_lsoa11_file6_population_denominators.csv",
    "indicators/iod2019_lsoa11_subdomains_ranks_deciles.csv",
    "indicators/iod2019_lsoa11_underlying_indicators.csv",
    "lookups/lsoa11_lsoa21_lad22_ew.csv",
    "lookups/lsoa21_ward24_lad24_ew.csv",
    "lookups/msoa_names_hcl_ew.csv",
    "lookups/ruc21_lsoa21_ew.csv",
    "lookups/lad24_csp24_pfa24_ew.csv",
    "lookups/warwickshire_lsoa_master_lookup.csv",
]
ALREADY_GZIPPED = ["indicators/ons_mid2020_population_syoa_lsoa11.csv.gz"]
# (source, target, {source column: target column}, keep only these target columns)
BOUNDARIES = [
    ("warwickshire_lsoa21_bgc.geojson", "warwickshire_lsoa21.gpkg",
     {"LSOA21CD": "lsoa21_code", "LSOA21NM": "lsoa21_name", "LADCD": "lad_code"}),
    ("warwickshire_lsoa11_bgc.geojson", "warwickshire_lsoa11.gpkg",
     {"LSOA11CD": "lsoa11_code", "LSOA11NM": "lsoa11_name", "LADCD": "lad_code"}),
    ("warwickshire_districts.geojson", "warwickshire_districts.gpkg",
     {"LADCD": "lad_code", "LADNM": "lad_name"}),
    ("warwickshire_wards_2025.geojson", "warwickshire_wards25.gpkg",
     {"WD25CD": "ward_code", "WD25NM": "ward_name", "LAD25CD": "lad_code"}),
    ("warwickshire_msoa21_bgc.geojson", "warwickshire_msoa21.gpkg",
     {"MSOA21CD": "msoa21_code", "MSOA21NM": "msoa21_name", "LADCD": "lad_code"}),
    ("england_lsoa21_bsc.geojson.gz", "england_lsoa21_bsc.gpkg",
     {"LSOA21CD": "lsoa21_code", "LSOA21NM": "lsoa21_name", "LAD24CD": "lad_code"}),
]


def gzip_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as fin, open(dst, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as fout:
            shutil.copyfileobj(fin, fout)


def convert_boundary(src: Path, dst: Path, columns: dict[str, str]) -> None:
    gdf = gpd.read_file(f"/vsigzip/{src}" if src.suffix == ".gz" else src)
    gdf = gdf[[*columns, "geometry"]].rename(columns=columns).to_crs("EPSG:4326")
    geom = shapely.set_precision(gdf.geometry.values, 1e-6)
    gdf = gdf.set_geometry(shapely.make_valid(geom))
    if not gdf.geometry.is_valid.all():
        raise SystemExit(f"{dst}: invalid geometries after make_valid")
    gdf = gdf.sort_values(next(iter(columns.values()))).reset_index(drop=True)
    dst.unlink(missing_ok=True)
    gdf.to_file(dst, driver="GPKG", layer=dst.stem)


def main(shared: Path) -> None:
    out = ROOT / "data" / "sources"
    for rel in SOURCES:
        gzip_copy(shared / rel, out / (Path(rel).name + ".gz"))
    for rel in ALREADY_GZIPPED:
        shutil.copyfile(shared / rel, out / Path(rel).name)
    for src in sorted((shared / "indicators" / "police_uk").glob("*-warwickshire-street.csv")):
        gzip_copy(src, out / "police_uk" / (src.name + ".gz"))
    for src, dst, cols in BOUNDARIES:
        convert_boundary(shared / "boundaries" / src, ROOT / "data" / "boundaries" / dst, cols)
    print("imported into", ROOT / "data")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
