"""One-off import of the open data the project ships, from the team's shared data folder.

Run from the repository root:  .venv/bin/python scripts/import_shared_data.py [../shared/data]

CSV sources are copied unchanged inside deterministic gzip files (mtime 0) to data/sources/;
boundaries are converted to GeoPackages with normalised column names in data/boundaries/
(EPSG:4326, coordinates snapped to 6 decimals, geometries made valid, rows sorted by code, and a
fixed GeoPackage timestamp so a re-import gives byte-identical files). The app and the tests never
read the shared folder: they read only what this script wrote into data/.
"""

from __future__ import annotations

import gzip
import shutil
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
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
# (source, target, {source column: target column} (only these are kept), expected rows)
BOUNDARIES = [
    ("warwickshire_lsoa21_bgc.geojson", "warwickshire_lsoa21.gpkg",
     {"LSOA21CD": "lsoa21_code", "LSOA21NM": "lsoa21_name", "LADCD": "lad_code"}, 354),
    ("warwickshire_lsoa11_bgc.geojson", "warwickshire_lsoa11.gpkg",
     {"LSOA11CD": "lsoa11_code", "LSOA11NM": "lsoa11_name", "LADCD": "lad_code"}, 339),
    ("warwickshire_districts.geojson", "warwickshire_districts.gpkg",
     {"LADCD": "lad_code", "LADNM": "lad_name"}, 5),
    ("warwickshire_wards_2025.geojson", "warwickshire_wards25.gpkg",
     {"WD25CD": "ward_code", "WD25NM": "ward_name", "LAD25CD": "lad_code"}, 108),
    ("warwickshire_msoa21_bgc.geojson", "warwickshire_msoa21.gpkg",
     {"MSOA21CD": "msoa21_code", "MSOA21NM": "msoa21_name", "LADCD": "lad_code"}, 67),
    ("england_lsoa21_bsc.geojson.gz", "england_lsoa21_bsc.gpkg",
     {"LSOA21CD": "lsoa21_code", "LSOA21NM": "lsoa21_name", "LAD24CD": "lad_code"}, 33755),
]
# Keep tracked files well under GitHub's limits; above this, ship a gzipped GeoJSON instead.
MAX_GPKG_BYTES = 15 * 1024 * 1024
# GeoPackages record a last-change timestamp; pinning it makes a re-import byte-identical.
pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})


def gzip_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as fin, open(dst, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as fout:
            shutil.copyfileobj(fin, fout)


def convert_boundary(
    src: Path, dst: Path, columns: dict[str, str], rows: int | None = None
) -> None:
    gdf = gpd.read_file(f"/vsigzip/{src}" if src.suffix == ".gz" else src)
    gdf = gdf[[*columns, "geometry"]].rename(columns=columns).to_crs("EPSG:4326")
    # Snap to a 1e-6 degree grid (about 0.1 m): rounds coordinates to 6 decimals and keeps
    # polygons valid where plain rounding could make rings self-intersect.
    geom = shapely.set_precision(gdf.geometry.values, 1e-6)
    gdf = gdf.set_geometry(shapely.make_valid(geom))
    if not gdf.geometry.is_valid.all() or gdf.geometry.is_empty.any():
        raise SystemExit(f"{dst}: invalid or empty geometries after make_valid")
    if rows is not None and len(gdf) != rows:
        raise SystemExit(f"{src}: expected {rows} features, found {len(gdf)}")
    gdf = gdf.sort_values(next(iter(columns.values()))).reset_index(drop=True)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.unlink(missing_ok=True)
    gdf.to_file(dst, driver="GPKG", layer=dst.stem)
    if dst.stat().st_size > MAX_GPKG_BYTES:
        raise SystemExit(f"{dst}: {dst.stat().st_size:,} bytes; ship a .geojson.gz instead")


def main(shared: Path) -> None:
    out = ROOT / "data" / "sources"
    for rel in SOURCES:
        gzip_copy(shared / rel, out / (Path(rel).name + ".gz"))
    for rel in ALREADY_GZIPPED:
        shutil.copyfile(shared / rel, out / Path(rel).name)
    for src in sorted((shared / "indicators" / "police_uk").glob("*-warwickshire-street.csv")):
        gzip_copy(src, out / "police_uk" / (src.name + ".gz"))
    # Leicestershire Police (2011 codes), already gzipped in the collection: copied byte for byte;
    # scripts/import_police.py then rebuilds data/police from data/sources/police_uk.
    leics = shared / "indicators" / "police_uk" / "leicestershire"
    for src in sorted(leics.glob("*-leicestershire-street.csv.gz")):
        (out / "police_uk" / "leicestershire").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / "police_uk" / "leicestershire" / src.name)
    for src, dst, cols, rows in BOUNDARIES:
        convert_boundary(shared / "boundaries" / src, ROOT / "data" / "boundaries" / dst, cols,
                         rows)
    print("imported into", ROOT / "data")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
