"""One home area's profile: everything the area pages read, built on the area's first use.

An :class:`AreaProfile` holds what a :class:`~profiler.area.HomeArea`'s pages read: its rows of
the indicator table (its own reference population), the default profile scored against it, its
means, map bounds, sub-area outlines, police.uk incidents, and the derived tables (Gi* hot spots,
band stability, change since IoD2019). The cheap parts are built at once (a few hundred
milliseconds for a county); the derived tables on first use, from a shipped file when the data
folder has one for the area (``<kind>_<slug>.csv``, written by the CLI), else computed.
:func:`dashboard.state.current` turns a profile into the area's state and keeps the last 8.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.ops import polylabel

from dashboard.state import INCIDENT_TYPES
from profiler import police
from profiler.area import HomeArea
from profiler.engine import BANDS, RiskProfiler
from profiler.errors import ProfilerError
from profiler.pipeline import score_scope
from profiler.police import latest_block

# most recent months of police.uk points a map shows (a longer run is for trends), and the most
# points: a force area's year of serious violence (Leicestershire's: 56,555) would put ~6 MB of
# points in the page, so the earliest months are left out until the rest fit
INCIDENT_MONTHS = 12
MAX_POINTS = 25_000
AREA_REFERENCE = "area"


def _bounds(minx, miny, maxx, maxy) -> list[list[float]]:
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


def month_span(months: tuple[str, ...]) -> str:
    """``"Jan-Apr 2024"`` / ``"Nov 2021-Oct 2022"`` / ``""`` for a sorted month run."""
    if not months:
        return ""
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

    def name(m: str) -> tuple[str, str]:
        return names[int(m[5:7]) - 1], m[:4]

    (m0, y0), (m1, y1) = name(months[0]), name(months[-1])
    if months[0] == months[-1]:
        return f"{m0} {y0}"
    return f"{m0}-{m1} {y1}" if y0 == y1 else f"{m0} {y0}-{m1} {y1}"


class AreaProfile:
    """The default profile of one home area and the tables its pages read.

    Parameters
    ----------
    state : AppState
        The loaded app state (spec, England table, geometry, data folder).
    area : HomeArea
        The area.
    """

    def __init__(self, state, area: HomeArea) -> None:
        self.area = area
        self.code = area.code
        self.name = area.name
        self._state = state
        self._data: Path = state.settings.data_dir
        codes = pd.Index(area.lsoa_codes)
        table = state.table
        self.table: pd.DataFrame = table[table["lsoa21_code"].isin(codes)]
        if len(self.table) != len(codes):
            raise ProfilerError(
                f"{area.label}: {len(codes) - len(self.table)} LSOA(s) not in the indicator "
                "table; rebuild it with `python -m profiler build`"
            )
        self.codes: list[str] = list(area.lsoa_codes)  # sorted: the geometry's feature order
        self.profile: pd.DataFrame = self._score()
        self.means: dict[str, float] = dict(
            RiskProfiler(state.spec).fit(self.table).reference_means()
        )

    def _score(self) -> pd.DataFrame:
        return score_scope(self.table, self._state.spec, scope=self.area, reference=AREA_REFERENCE)

    # -- geometry --------------------------------------------------------------------------
    @cached_property
    def bounds(self) -> list[list[float]]:
        """[[south, west], [north, east]] of the area."""
        return self.subarea_bounds["__area__"]

    @cached_property
    def _subarea_shapes(self) -> dict[str, object]:
        # the web geometry is coverage-simplified (shared edges once), so a coverage union of
        # its LSOAs gives gap-free sub-area outlines
        features = self._state.england_features
        shapes = {
            c: shapely.from_geojson(_feature_geometry(features[c]))
            for c in self.codes
            if c in features
        }
        out = {}
        for sub in self.area.subareas:
            geoms = [shapes[c] for c in sub.lsoa_codes if c in shapes]
            out[sub.code] = shapely.coverage_union_all(geoms) if geoms else None
        return out

    @cached_property
    def subarea_bounds(self) -> dict[str, list[list[float]]]:
        """Bounds of each sub-area by code, and of the whole area under ``"__area__"``."""
        out = {}
        boxes = []
        for code, geom in self._subarea_shapes.items():
            if geom is not None:
                box = shapely.bounds(geom)
                boxes.append(box)
                out[code] = _bounds(*box)
        arr = np.array(boxes)
        out["__area__"] = _bounds(arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(),
                                  arr[:, 3].max())
        return out

    @cached_property
    def label_points(self) -> dict[str, list[float]]:
        """Where each sub-area's name goes on the map, ``[lat, lon]`` by code.

        The point of the sub-area farthest from its edges and from its High and Very High LSOAs
        of the default profile (shapely's polylabel on the sub-area less those LSOAs, widened by
        about a kilometre), so a name does not cover the areas the map is about.
        """
        features = self._state.england_features
        high = set(self.profile.loc[self.profile["band"].isin(BANDS[3:]), "lsoa21_code"])
        out = {}
        for sub in self.area.subareas:
            geom = self._subarea_shapes.get(sub.code)
            if geom is None:
                continue
            hot = [shapely.from_geojson(_feature_geometry(features[c]))
                   for c in sub.lsoa_codes if c in high and c in features]
            free = shapely.difference(geom, shapely.buffer(shapely.union_all(hot), 0.01)) \
                if hot else geom
            if free.is_empty:
                free = geom
            parts = list(getattr(free, "geoms", [free]))
            point = polylabel(max(parts, key=lambda g: g.area), tolerance=0.001)
            out[sub.code] = [round(point.y, 5), round(point.x, 5)]
        return out

    @cached_property
    def subareas_geojson(self) -> dict:
        """Sub-area outlines (``lad_code``, ``lad_name``), dissolved from the LSOA shapes."""
        features = []
        for sub in self.area.subareas:
            geom = self._subarea_shapes.get(sub.code)
            if geom is None:
                continue
            geom = shapely.set_precision(geom, 1e-4)
            props = {"lad_code": sub.code, "lad_name": sub.name}
            if sub.code in self.label_points:
                props["label_at"] = self.label_points[sub.code]
            features.append({
                "type": "Feature",
                "properties": props,
                "geometry": json.loads(shapely.to_geojson(geom)),
            })
        return {"type": "FeatureCollection", "features": features}

    # -- police.uk -------------------------------------------------------------------------
    @cached_property
    def forces(self) -> tuple[str, ...]:
        """Imported police.uk forces (store slugs) that police this area, most records first.

        A force is the area's when its name is one of the area's police force areas; another
        force's records in the area's border LSOAs (a few of a neighbouring force's, snapped
        across the boundary) do not make it one.
        """
        return area_forces(self._data, self.area)

    @cached_property
    def incidents(self) -> pd.DataFrame:
        """police.uk records of the serious-violence types in the latest months covering it.

        The latest run of consecutive months (at most :data:`INCIDENT_MONTHS`) the area's
        forces have, so a map never mixes two periods.
        """
        if not self.forces:
            return pd.DataFrame(columns=["month", "crime_type", "longitude", "latitude",
                                         "lsoa21_code"])
        manifest = police.imported(self._data)["forces"]
        months = [m for f in self.forces for m in manifest[f]["months"]]
        points = police.load_incidents(
            self._data,
            lsoa_codes=self.codes,
            forces=list(self.forces),
            months=list(latest_block(months, INCIDENT_MONTHS)),
            crime_types=list(INCIDENT_TYPES),
        )
        points = points.dropna(subset=["longitude", "latitude"])
        per_month = points["month"].astype(str).value_counts().sort_index()
        while len(per_month) > 1 and per_month.sum() > MAX_POINTS:
            per_month = per_month.iloc[1:]
        points = points[points["month"].astype(str).isin(per_month.index)]
        for column in ("month", "crime_type", "lsoa21_code"):
            points[column] = points[column].astype(str)
        return points.reset_index(drop=True)

    @cached_property
    def incident_months(self) -> tuple[str, ...]:
        """The months of :attr:`incidents`, sorted (empty: no police.uk data for the area)."""
        return tuple(sorted(self.incidents["month"].unique())) if len(self.incidents) else ()

    @property
    def incident_period(self) -> str:
        """``"Jan-Apr 2024"``, or empty."""
        return month_span(self.incident_months)

    @cached_property
    def incidents_geojson(self) -> dict:
        """Incident points (``crime_type``, ``month``, ``lsoa21_code``) for clusters and points."""
        points = self.incidents
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    # the LSOA lets the legend count the points of a focused district or ward
                    "properties": {"crime_type": crime, "month": month, "lsoa21_code": lsoa},
                }
                for lon, lat, crime, month, lsoa in zip(
                    points["longitude"].round(5),
                    points["latitude"].round(5),
                    points["crime_type"],
                    points["month"],
                    points["lsoa21_code"],
                    strict=True,
                )
            ],
        }

    @cached_property
    def heat_geojson(self) -> dict:
        """Kernel-density cells of the incidents (``intensity`` 0-1) for the heat mode."""
        from profiler.density import kernel_density

        if not len(self.incidents):
            return {"type": "FeatureCollection", "features": []}
        kde = kernel_density(self.incidents, bandwidth_m=500, cell_m=400, min_share=0.05)
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {"intensity": round(float(i), 3)},
                }
                for lon, lat, i in zip(
                    kde["longitude"], kde["latitude"], kde["intensity"], strict=True
                )
            ],
        }

    # -- derived tables --------------------------------------------------------------------
    def _shipped(self, kind: str, load: Callable[[Path], pd.DataFrame]) -> pd.DataFrame | None:
        path = self._data / self.area.data_file(kind)
        return load(path) if path.exists() else None

    @cached_property
    def hotspots(self) -> pd.DataFrame:
        """Gi* classes of the default profile's scores, by LSOA code."""
        shipped = self._shipped("hotspots", _read_by_code)
        if shipped is not None:
            return shipped
        from profiler.derived import area_hotspots

        return area_hotspots(self.profile, self._data).set_index("lsoa21_code")

    @cached_property
    def stability(self) -> pd.DataFrame | None:
        """Band stability of the default profile (P(High+) etc.), by LSOA code."""
        shipped = self._shipped("stability", _read_by_code)
        if shipped is not None:
            return shipped
        from profiler.derived import area_stability

        return area_stability(self._state.table, self._state.spec, self.codes).set_index(
            "lsoa21_code"
        )

    @cached_property
    def change(self) -> pd.DataFrame:
        """IoD2019 vs IoD2025 comparison profiles and police.uk counts, by LSOA code."""
        from profiler.change import load_change_table

        shipped = self._shipped("change", load_change_table)
        if shipped is None:
            from profiler.derived import area_change

            shipped = area_change(self._data, self._state.spec, self._state.table, self.codes)
        return shipped.set_index("lsoa21_code")

    @cached_property
    def sensitivity(self) -> pd.DataFrame:
        """Rank shift when each indicator is left out (default profile)."""
        from profiler.stability import indicator_sensitivity

        return indicator_sensitivity(self.table, self._state.spec)


def area_forces(data_dir: Path, area: HomeArea) -> tuple[str, ...]:
    """Imported police.uk forces (store slugs) that police ``area``, most records first."""
    manifest = police.imported(data_dir)["forces"]
    names = {_slug(name) for _, name in area.forces}
    ours = [
        slug for slug, entry in manifest.items()
        if slug in names or _slug(entry.get("name", "")).removesuffix("-police") in names
    ]
    covering = police.forces_covering(data_dir, area.lsoa_codes)
    return tuple(sorted(ours, key=lambda f: -covering.get(f, 0)))


def _slug(name: str) -> str:
    """police.uk's force slug for a force name (``"West Mercia"`` -> ``west-mercia``)."""
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def _feature_geometry(text: str) -> str:
    """The ``geometry`` member of one feature's JSON text (the web file's features)."""
    return json.dumps(json.loads(text)["geometry"])


def _read_by_code(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"lsoa21_code": str}).set_index("lsoa21_code")
