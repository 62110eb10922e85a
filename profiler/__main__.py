"""Command-line interface: ``python -m profiler <command>`` (build, score, export, incidents...).

Every bad input ends with a one-line ``error: ...`` on standard error and exit status 2; output
files are written to a temporary file first and moved into place, so nothing is half-written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from profiler.area import DEFAULT_AREA
from profiler.errors import ProfilerError

DEFAULT_DATA = Path("data")
DEFAULT_SPEC = DEFAULT_DATA / "indicators" / "spec.toml"
DEFAULT_TABLE = DEFAULT_DATA / "indicators" / "lsoa21_indicators.csv"
FORMATS = ("csv", "xlsx", "geojson")
AREA_HELP = ("home area: a county, police force area, partnership or district name or code, "
             "districts joined by + (e.g. Worcestershire, 'West Mercia', E08000025+E08000026), "
             f"or england; default {DEFAULT_AREA}, as SVRP_AREA's. --scope is the same option")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write a file through a temporary sibling and move it into place.

    Parameters
    ----------
    path : Path
        Destination.
    write : callable
        Called with the temporary path; must write the whole file there.
    """
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise ProfilerError(f"--out {path}: folder {path.parent} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parse_weights(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    weights: dict[str, float] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep:
            raise ProfilerError(
                f"--weights: {item!r} is not id=number; write e.g. "
                "--weights violence_with_injury=3,homelessness=0.5"
            )
        try:
            weights[key.strip()] = float(value)
        except ValueError:
            raise ProfilerError(f"--weights: {key.strip()}: {value!r} is not a number") from None
    return weights


def _parse_bands(text: str) -> list[str]:
    from profiler.engine import BANDS

    bands = [b.strip() for b in text.split(",") if b.strip()]
    unknown = [b for b in bands if b not in BANDS]
    if unknown or not bands:
        raise ProfilerError(
            f"--band: unknown band(s) {', '.join(map(repr, unknown)) or '(none given)'}; use a "
            f"comma-separated list of {', '.join(BANDS)}"
        )
    return bands


def _add_area_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--area", "--scope", dest="area", default=DEFAULT_AREA, help=AREA_HELP)


def _area(args: argparse.Namespace, table=None):
    """Resolve ``--area`` to a HomeArea, or ``"england"`` (cached on ``args``)."""
    if getattr(args, "area_", None) is not None:
        return args.area_
    text = str(args.area).strip()
    if text.lower() == "england":
        args.area_ = "england"
        return args.area_
    from profiler.area import AreaCatalogue

    data = Path(getattr(args, "data", DEFAULT_DATA))
    shipped = Path(args.indicators).resolve() == (data / "indicators" /
                                                  "lsoa21_indicators.csv").resolve()
    args.catalogue_ = AreaCatalogue.load(data, table=table if shipped else None)
    args.area_ = args.catalogue_.resolve(text)
    return args.area_


def _with_geography(args: argparse.Namespace, table, reference: str):
    """Add the district/county columns a county or district reference groups by, if missing.

    A partner's own table may hold only codes and indicators; its LSOAs' districts and
    counties come from the shipped lookup (the catalogue).
    """
    column = {"county": "utla_code", "district": "lad24_code"}.get(reference)
    if column is None or column in table.columns:
        return table
    catalogue = getattr(args, "catalogue_", None)
    if catalogue is None:
        from profiler.area import AreaCatalogue

        catalogue = AreaCatalogue.load(Path(getattr(args, "data", DEFAULT_DATA)))
    geo = catalogue.geography(table["lsoa21_code"])
    table = table.copy()
    for col in geo.columns:
        if col not in table.columns:
            table[col] = geo[col].to_numpy()
    print(f"note: {Path(args.indicators).name} has no {column}; each LSOA's district and "
          "county are taken from the shipped lookup")
    return table


def _group_by(result, area) -> str | None:
    """Choose the band-count rows: wards of one district, else districts, else none."""
    wards = getattr(area, "sub_level", None) == "ward"
    for col in (("ward24_name", "lad24_name") if wards else ("lad24_name",)):
        if col in result.columns:
            return col
    return None


def _add_profile_options(p: argparse.ArgumentParser) -> None:
    from profiler.spec import BANDINGS, NORMALISATIONS, REFERENCES

    p.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="indicator spec (TOML)")
    p.add_argument("--indicators", type=Path, default=DEFAULT_TABLE, help="indicator table (CSV)")
    _add_area_option(p)
    p.add_argument("--reference", choices=REFERENCES, help="reference population for bands")
    p.add_argument("--normalisation", choices=NORMALISATIONS)
    p.add_argument("--banding", choices=BANDINGS)
    p.add_argument("--cap", type=float, help="winsorise at this reference quantile (0 = off)")
    p.add_argument("--weights", help="what-if weights, e.g. violence_with_injury=3,homelessness=0")


def _read_upload(path: Path, option: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ProfilerError(f"{option} {path}: file not found; check the path") from None
    except OSError as exc:
        raise ProfilerError(f"{option} {path}: cannot read ({exc.strerror})") from None


def _add_partner_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--partner-indicators", type=Path, metavar="FILE",
                   help="partner LSOA indicator table (CSV or .xlsx) replacing or adding "
                        "indicators; must cover every LSOA of the scope")
    p.add_argument("--incidents", type=Path, metavar="FILE",
                   help="partner incident extract (CSV or .xlsx): per-LSOA theme counts and "
                        "rates are added (small counts suppressed)")
    p.add_argument("--threshold", type=int, default=5,
                   help="disclosure threshold for partner counts (default 5)")


def _apply_partner_indicators(args: argparse.Namespace, spec, table):
    from profiler.partner import load_partner_indicators
    from profiler.pipeline import select_scope

    path = getattr(args, "partner_indicators", None)
    if path is None:
        return spec, table
    scope_codes = select_scope(table, _area(args, table))["lsoa21_code"]
    spec, table, report = load_partner_indicators(_read_upload(path, "--partner-indicators"),
                                                  Path(path).name, spec, table,
                                                  scope_codes=scope_codes)
    for line in report.lines(n=0):
        print(line)
    return spec, table


def _score(args: argparse.Namespace):
    from profiler.pipeline import score_scope
    from profiler.spec import load_spec
    from profiler.table import load_indicator_table

    spec = load_spec(args.spec)
    table = load_indicator_table(args.indicators, spec)
    area = _area(args, table)
    spec, table = _apply_partner_indicators(args, spec, table)
    table = _with_geography(args, table, args.reference or spec.profile.reference)
    weights = _parse_weights(args.weights)
    start = time.perf_counter()
    result = score_scope(table, spec, scope=area, reference=args.reference,
                         normalisation=args.normalisation, banding=args.banding,
                         weights=weights, cap=args.cap)
    elapsed = time.perf_counter() - start
    return spec.with_weights(weights) if weights else spec, table, result, elapsed


def _settings(args: argparse.Namespace, spec) -> dict:
    return {
        "scope": getattr(args.area_, "label", args.area_),
        "reference": args.reference or spec.profile.reference,
        "normalisation": args.normalisation or spec.profile.normalisation,
        "banding": args.banding or spec.profile.banding,
    }


def cmd_build(args: argparse.Namespace) -> int:
    """Rebuild the indicator table from the shipped sources."""
    from profiler.build import run_build

    start = time.perf_counter()
    df = run_build(args.data, args.out)
    print(f"wrote {args.out} ({len(df):,} LSOAs) in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_check_spec(args: argparse.Namespace) -> int:
    """Validate a spec (and, if given, a table against it)."""
    from profiler.spec import load_spec
    from profiler.table import load_indicator_table

    spec = load_spec(args.spec)
    msg = f"{args.spec}: OK, {len(spec.indicators)} indicators, sha256 {spec.sha256[:12]}"
    if args.indicators:
        table = load_indicator_table(args.indicators, spec)
        msg += f"; {args.indicators}: OK, {len(table):,} LSOAs"
    print(msg)
    return 0


def _incident_counts(args: argparse.Namespace, codes=None):
    """Load ``--incidents`` and return (theme counts, report, boundaries), or Nones."""
    from profiler.partner import load_code_lookup, load_incidents, residents_lsoa21, theme_counts

    path = getattr(args, "incidents", None) or getattr(args, "input", None)
    if path is None:
        return None, None, None
    from profiler.disclosure import check_threshold

    check_threshold(args.threshold)
    content = _read_upload(path, "--incidents" if getattr(args, "incidents", None) else "--in")
    area = _area(args)
    if codes is None and area != "england":
        codes = area.lsoa_codes
    boundaries = _boundaries(getattr(args, "data", DEFAULT_DATA), area, codes)
    if codes is not None:
        boundaries = boundaries[boundaries["lsoa21_code"].isin(set(codes))]
    start = time.perf_counter()
    incidents, report = load_incidents(content, Path(path).name, lsoa_boundaries=boundaries,
                                       max_reject_share=getattr(args, "max_reject_share", 0.0))
    population = residents_lsoa21(load_code_lookup(getattr(args, "data", DEFAULT_DATA)))
    population = population[population.index.isin(set(boundaries["lsoa21_code"]))]
    counts = theme_counts(incidents, population)
    report.notes.append(f"loaded and counted in {time.perf_counter() - start:.2f} s")
    counts.attrs["synthetic"] = bool(len(incidents)) and bool(
        incidents["source"].str.upper().eq("SYNTHETIC").all())
    counts.attrs["name"] = Path(path).name
    return counts, report, boundaries


def _suppressed_display(counts, threshold: int):
    from profiler.disclosure import display_frame, suppress
    from profiler.partner import count_columns

    counted = count_columns(counts)
    shown = display_frame(suppress(counts.drop(columns=["residents"]), counted,
                                   threshold=threshold), counted, threshold=threshold)
    return shown.rename(columns=lambda c: f"partner_{c}")


def cmd_incidents(args: argparse.Namespace) -> int:
    """Validate an incident extract and write per-LSOA theme counts with suppression."""
    from profiler.partner import export_theme_counts, theme_sources

    args.indicators = Path(args.data) / "indicators" / "lsoa21_indicators.csv"
    counts, report, boundaries = _incident_counts(args)
    for line in report.lines(n=0):
        print(line)
    synthetic = counts.attrs["synthetic"]
    if synthetic:
        print("SYNTHETIC data: for tests and demonstration only")
    if args.out:
        names = boundaries.set_index("lsoa21_code")["lsoa21_name"]
        meta = {"extract": counts.attrs["name"] + (" (SYNTHETIC: not real data)"
                                                   if synthetic else ""),
                **{f"source {k}": v for k, v in theme_sources(counts.attrs["name"],
                                                              synthetic=synthetic).items()}}
        blob = export_theme_counts(counts, threshold=args.threshold, meta=meta, names=names)
        atomic_write(args.out, lambda p: p.write_bytes(blob))
        print(f"wrote {args.out} ({len(counts):,} LSOAs; counts 1 to {args.threshold - 1} "
              "suppressed)")
    return 0


def _theme_meta(counts) -> dict:
    """Say where the theme bands and the partner count columns come from."""
    from profiler.partner import theme_sources

    # The theme bands of `score` stay on the open proxies; the partner counts sit beside them.
    meta = {f"theme bands {k}": v for k, v in theme_sources(None).items()}
    if counts is not None:
        synthetic = bool(counts.attrs["synthetic"])
        meta.update({f"partner_{k}_count and rate": v for k, v in
                     theme_sources(counts.attrs["name"], synthetic=synthetic).items()})
    return meta


def cmd_score(args: argparse.Namespace) -> int:
    """Score every LSOA in a scope and write one row per LSOA."""
    from profiler.pipeline import band_counts

    spec, _, result, elapsed = _score(args)
    counts, report, _ = _incident_counts(args, codes=result["lsoa21_code"])
    if counts is not None:
        for line in report.lines(n=0):
            print(line)
        shown = _suppressed_display(counts, args.threshold)
        result = result.merge(shown, left_on="lsoa21_code", right_index=True, how="left")
        for key, value in _theme_meta(counts).items():
            print(f"{key}: {value}")
    atomic_write(args.out, lambda p: result.to_csv(p, index=False, float_format="%.6g",
                                                   lineterminator="\n"))
    print(f"scored {len(result):,} LSOAs x {len(spec.indicators)} indicators in "
          f"{elapsed * 1000:.0f} ms; wrote {args.out}")
    print(band_counts(result, by=_group_by(result, args.area_)).to_string())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the list of LSOAs in the chosen bands with a metadata block."""
    bands = _parse_bands(args.band)
    from profiler.export import build_metadata, export_lsoas

    spec, _, result, _ = _score(args)
    boundaries = None
    if args.format == "geojson":
        boundaries = _boundaries(args.data, args.area_)
    meta = build_metadata(spec, generated_at=datetime.now(UTC), weights=spec.weights,
                          **_settings(args, spec), **_theme_meta(None))
    out = Path(args.out)
    blob = export_lsoas(result, spec, fmt="csv.zip" if args.format == "csv" else args.format,
                        bands=bands, district=args.district, boundaries=boundaries, meta=meta,
                        home=getattr(args.area_, "name", "the area"), stem=out.stem)
    if args.format == "csv":
        # the CSV starts with its header; the metadata goes beside it, as in the zip
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(blob)) as bundle:
            members = {n.removeprefix(out.stem): bundle.read(n) for n in bundle.namelist()}
        about = out.with_name(f"{out.stem}-about.txt")
        atomic_write(about, lambda p: p.write_bytes(members["-about.txt"]))
        blob = members[".csv"]
        print(f"wrote {about} (what the CSV is, sources, method)")
    atomic_write(args.out, lambda p: p.write_bytes(blob))
    print(f"wrote {args.out} ({args.format})")
    return 0


def _boundaries(data: Path, area, codes=None):
    """Load the most detailed shipped 2021 LSOA boundaries covering an area (or ``codes``).

    An area's own detailed file (``boundaries/<area>_lsoa21.gpkg``) when one covers it,
    England's otherwise, and for ``"england"``.
    """
    from profiler.geo import ENGLAND, covering_scope, load_lsoa_boundaries

    wanted = codes if codes is not None else getattr(area, "lsoa_codes", ())
    return load_lsoa_boundaries(data, ENGLAND if area == ENGLAND else covering_scope(data, wanted))


def band_counts_markdown(counts, label: str = "District") -> str:
    """Format :func:`profiler.pipeline.band_counts` output as a Markdown table."""
    lines = ["| " + " | ".join([label, *counts.columns]) + " |",
             "|" + "---|" * (len(counts.columns) + 1)]
    for name, row in counts.iterrows():
        label = f"**{name}**" if name == "Total" else name
        lines.append("| " + " | ".join([label, *(str(v) for v in row)]) + " |")
    return "\n".join(lines) + "\n"


def cmd_summary(args: argparse.Namespace) -> int:
    """Print band counts per district as a Markdown table (and optionally put it in a README)."""
    from profiler.docs import replace_block
    from profiler.pipeline import band_counts

    spec, _, result, _ = _score(args)
    by = _group_by(result, args.area_)
    table = band_counts_markdown(band_counts(result, by=by, column=args.column),
                                 label="Ward" if by == "ward24_name" else "District")
    print(table, end="")
    if args.readme:
        settings = _settings(args, spec)
        caption = (
            f"\nDefault spec, scope {settings['scope']}, reference {settings['reference']}, "
            f"{settings['normalisation']} normalisation, {settings['banding']} bands "
            "(`python -m profiler summary --readme README.md` regenerates this table).\n"
        )
        text = args.readme.read_text(encoding="utf-8")
        new = replace_block(text, "band-counts", table + caption)
        if new != text:
            atomic_write(args.readme, lambda p: p.write_text(new, encoding="utf-8"))
        print(f"{args.readme}: {'updated' if new != text else 'already up to date'}")
    return 0


def cmd_stability(args: argparse.Namespace) -> int:
    """Run the Monte Carlo band-stability analysis and write one row per LSOA."""
    from profiler.pipeline import select_scope
    from profiler.spec import load_spec
    from profiler.stability import StabilitySettings, band_stability
    from profiler.table import load_indicator_table

    spec = load_spec(args.spec)
    table = load_indicator_table(args.indicators, spec)
    area = _area(args, table)
    table = select_scope(table, area)
    args.out = args.out or _derived_out(args, "stability", area)
    start = time.perf_counter()
    areas, sensitivity = band_stability(table, spec, StabilitySettings(draws=args.draws,
                                                                        seed=args.seed))
    elapsed = time.perf_counter() - start
    atomic_write(args.out, lambda p: areas.to_csv(p, index=False, float_format="%.6g",
                                                  lineterminator="\n"))
    sure = int((areas["p_high"] >= 0.9).sum())
    print(f"{args.draws} draws over {len(areas):,} LSOAs in {elapsed:.1f} s; {sure} LSOAs High "
          f"or above with probability >= 0.9; wrote {args.out}")
    print("Indicators that move the ranking most (left out in turn):")
    print(sensitivity.head(5).to_string(index=False))
    return 0


def _derived_out(args: argparse.Namespace, kind: str, area) -> Path:
    """Where the app looks for an area's ``kind`` table (:data:`profiler.area.AREA_FILES`)."""
    from profiler.area import AREA_FILES

    return Path(args.data) / AREA_FILES[kind].format(slug=getattr(area, "slug", area))


def cmd_hotspots(args: argparse.Namespace) -> int:
    """Getis-Ord Gi* hot spots of the overall and theme scores of the area."""
    from profiler.hotspots import hotspot_table

    spec, _, result, _ = _score(args)
    areas = _boundaries(args.data, args.area_, result["lsoa21_code"])
    areas = areas[areas["lsoa21_code"].isin(set(result["lsoa21_code"]))]
    columns = {"overall": "score", **{t: f"{t}_score" for t in ("knife", "domestic",
                                                                    "public_place")}}
    start = time.perf_counter()
    table = hotspot_table(areas, result, columns, permutations=args.permutations)
    elapsed = time.perf_counter() - start
    atomic_write(args.out, lambda p: table.to_csv(p, index=False, float_format="%.6g",
                                                  lineterminator="\n"))
    counts = table["overall_hotspot"].value_counts().to_dict()
    print(f"Gi* with FDR over {len(table)} LSOAs in {elapsed:.1f} s: {counts}; wrote {args.out}")
    return 0


def cmd_change(args: argparse.Namespace) -> int:
    """Write the IoD2019-vs-IoD2025 and police.uk change table for a county."""
    from profiler.change import change_summary, run_change
    from profiler.spec import load_spec

    args.indicators = Path(args.data) / "indicators" / "lsoa21_indicators.csv"
    area = _area(args)
    if getattr(area, "level", None) != "county":
        shown = getattr(area, "label", area)
        raise ProfilerError(f"--area {args.area!r}: change over time is built for a county "
                            f"(upper-tier authority), got {shown}; use e.g. --area {DEFAULT_AREA}")
    args.out = args.out or _derived_out(args, "change", area)
    table, elapsed = run_change(args.data, load_spec(args.spec), args.out, county=area.code)
    print(f"change over time for {len(table)} LSOAs in {elapsed:.1f} s; wrote {args.out}")
    print(change_summary(table).to_string())
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    """Fit the profile before the test months and judge it, with baselines, against them."""
    import json

    from profiler.backtest import parse_months, summary_record, to_markdown
    from profiler.backtest_data import SHIPPED_BACKTESTS, run_backtest
    from profiler.observed import QUADRANTS

    if args.suite:
        if args.json is None:
            raise ProfilerError("backtest --suite: pass --json FILE (e.g. "
                                "data/indicators/backtests.json)")
        records = []
        for case in SHIPPED_BACKTESTS:
            result, meta = run_backtest(
                args.data, args.indicators, args.spec, area=case["area"],
                fit_before=case["fit_before"], test=parse_months(case["test"], "--test"),
                observed=parse_months(case["observed"], "--observed"),
                compare=args.compare or (), n_boot=args.boot, seed=args.seed)
            records.append(summary_record(result, {**case, **meta}))
            print(f"{case['id']}: {case['label']}: done", file=sys.stderr)
        payload = {"format": "svrp-backtests/1", "spec_sha256": records[0]["spec_sha256"],
                   "n_boot": args.boot, "seed": args.seed, "backtests": records}
        atomic_write(args.json, lambda tmp: Path(tmp).write_text(
            json.dumps(payload, indent=1) + "\n", encoding="utf-8"))
        print(f"wrote {args.json} ({len(records)} backtests)")
        return 0
    if not (args.fit_before and args.test):
        raise ProfilerError("backtest: pass --fit-before and --test (or --suite)")
    test = parse_months(args.test, "--test")
    observed = parse_months(args.observed, "--observed") if args.observed else ()
    types = tuple(t.strip() for t in args.crime_types.split(",")) if args.crime_types \
        else None
    start = time.perf_counter()
    result, meta = run_backtest(
        args.data, args.indicators, args.spec, area=args.area, fit_before=args.fit_before,
        test=test, observed=observed, compare=args.compare or (), incidents=args.incidents,
        crime_types=types, partner_extract=args.partner_extract, n_boot=args.boot,
        seed=args.seed)
    title = (f"{meta['spec_name']}: {args.area}, fitted before {args.fit_before}, tested on "
             f"{test[0]}..{test[-1]}" + (f", observed {observed[0]}..{observed[-1]}"
                                         if observed else ""))
    print(to_markdown(result, title), end="")
    print("\nPaired differences (profile minus baseline, 95% bootstrap interval):")
    compared = [(name, "hit_rate") for name in set(result.table["ranking"])
                if name.startswith("compared: ")]
    for other, metric in (("previous period counts", "hit_rate"),
                          ("IoD2025 crime domain", "spearman"), *sorted(compared)):
        if other in set(result.table["ranking"]):
            d, lo, hi = result.difference("profile", other, metric, "top 10%")
            scale, unit = (100, " points") if metric == "hit_rate" else (1, "")
            what = "top 10% hit rate" if metric == "hit_rate" else "Spearman"
            print(f"- {what} vs {other}: {scale * d:+.2f}{unit} "
                  f"({scale * lo:+.2f} to {scale * hi:+.2f})")
    if "quadrant" in result.areas.columns:
        counts = result.areas["quadrant"].value_counts()
        print("\nRisk vs observed (static risk High+ vs top quintile of the observed EB rate): "
              + "; ".join(f"{q} {counts.get(q, 0)}" for q in QUADRANTS))
    print(f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    if args.lsoas:
        atomic_write(args.lsoas, lambda tmp: result.areas.to_csv(tmp, index=False,
                                                                 float_format="%.6g"))
    if args.csv:
        atomic_write(args.csv, lambda tmp: result.table.to_csv(tmp, index=False,
                                                                float_format="%.6g"))
    if args.json:
        payload = {"title": title, "spec": str(args.spec), "spec_sha256": meta["spec_sha256"],
                   "scope": args.area, "fit_before": args.fit_before, "test_months": test,
                   "observed_months": observed, "crime_types": meta["crime_types"],
                   "pai_basis": result.pai_basis, "n_areas": result.n_areas,
                   "n_incidents": result.n_incidents, "n_boot": result.n_boot,
                   "seed": result.seed,
                   "rows": json.loads(result.table.to_json(orient="records"))}
        atomic_write(args.json, lambda tmp: Path(tmp).write_text(
            json.dumps(payload, indent=1) + "\n", encoding="utf-8"))
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    """Regenerate the README data dictionary from the spec."""
    from profiler.docs import update_readme
    from profiler.spec import load_spec

    changed = update_readme(args.readme, load_spec(args.spec))
    print(f"{args.readme}: {'updated' if changed else 'already up to date'}")
    return 0


def cmd_police_import(args: argparse.Namespace) -> int:
    """Import police.uk street files (any force, any months) into the data folder's store."""
    from profiler.police import import_street_files

    report = import_street_files(args.paths, args.data, store_dir=args.store,
                                 replace=args.replace)
    for line in report.lines():
        print(line)
    return 0


def cmd_police_list(args: argparse.Namespace) -> int:
    """List the imported forces and months."""
    from profiler.police import imported

    forces = imported(args.data)["forces"]
    for slug, force in forces.items():
        months = list(force["months"])
        stored = sum(m["stored"] for m in force["months"].values())
        print(f"{slug} ({force['name']}): {len(months)} month(s) {months[0]}..{months[-1]}, "
              f"{stored:,} records")
    if not forces:
        print("no police.uk data imported; run `python -m profiler police import PATH...`")
    return 0


def _add_police_parser(sub) -> None:
    p = sub.add_parser("police", help="police.uk street-level crime for any force")
    police = p.add_subparsers(dest="police_command", required=True)
    q = police.add_parser("import", help="import monthly YYYY-MM-<force>-street.csv files "
                          "(files, .csv.gz, folders or zips as police.uk gives them)")
    q.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                   help="street files, folders or zips (e.g. a police.uk download)")
    q.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help="data folder (reference data; the store is DATA/police)")
    q.add_argument("--store", type=Path, help="store folder (default DATA/police)")
    q.add_argument("--replace", action="store_true",
                   help="re-import months already imported (they are replaced)")
    q.set_defaults(func=cmd_police_import)
    q = police.add_parser("list", help="list the imported forces and months")
    q.add_argument("--data", type=Path, default=DEFAULT_DATA)
    q.set_defaults(func=cmd_police_list)


def cmd_postcodes_import(args: argparse.Namespace) -> int:
    """Keep the offered areas' live postcodes of the ONS Postcode Directory (DATA/postcodes/)."""
    from profiler.area import AreaCatalogue
    from profiler.places import import_onspd

    text = args.area or os.environ.get("SVRP_AREAS", "").strip() or os.environ.get(
        "SVRP_AREA", "").strip() or DEFAULT_AREA
    catalogue = AreaCatalogue.load(args.data)
    areas = (catalogue.areas("county") if text.strip().lower() == "england"
             else catalogue.resolve_many(text, what="--area"))
    codes = sorted({c for area in areas for c in area.lsoa_codes})
    names = ", ".join(a.label for a in areas[:4]) + (" ..." if len(areas) > 4 else "")
    report = import_onspd(args.file, args.data, codes, out=args.out)
    print(f"areas: {names} ({len(codes):,} LSOAs)")
    print(report.summary())
    return 0


def _add_postcodes_parser(sub) -> None:
    p = sub.add_parser("postcodes", help="postcode search from the ONS Postcode Directory")
    postcodes = p.add_subparsers(dest="postcodes_command", required=True)
    q = postcodes.add_parser(
        "import", help="read an ONS Postcode Directory CSV (ONSPD, OGL) and keep the live "
        "postcodes of the offered areas in DATA/postcodes/postcodes.csv.gz")
    q.add_argument("file", type=Path, metavar="FILE",
                   help="ONSPD_<MMM>_<YYYY>_UK.csv (or .csv.gz, or the ONSPD zip)")
    q.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data folder")
    q.add_argument("--area", help="areas to keep, comma-separated as for SVRP_AREAS, or "
                   f"england (default: $SVRP_AREAS, else $SVRP_AREA, else {DEFAULT_AREA})")
    q.add_argument("--out", type=Path, help="output file (default DATA/postcodes/postcodes.csv.gz)")
    q.set_defaults(func=cmd_postcodes_import)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(prog="python -m profiler", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="rebuild data/indicators/lsoa21_indicators.csv from sources")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, default=DEFAULT_TABLE)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("check-spec", help="validate a spec (and optionally a table)")
    p.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    p.add_argument("--indicators", type=Path)
    p.set_defaults(func=cmd_check_spec)

    p = sub.add_parser("score", help="score every LSOA in a scope")
    _add_profile_options(p)
    _add_partner_options(p)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("export", help="export the LSOAs in chosen bands with metadata")
    _add_profile_options(p)
    p.add_argument("--partner-indicators", type=Path, metavar="FILE",
                   help="partner LSOA indicator table (CSV or .xlsx) replacing or adding "
                        "indicators; must cover every LSOA of the scope")
    p.add_argument("--band", default="Very High,High", help="comma-separated bands")
    p.add_argument("--district", help="district code, e.g. E07000219")
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("summary", help="band counts per district (Markdown)")
    _add_profile_options(p)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--column", default="band", help="band column, e.g. band or knife_band")
    p.add_argument("--readme", type=Path, help="also write the table into this README's "
                   "band-counts block")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("stability", help="Monte Carlo band stability (probability High+)")
    p.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    p.add_argument("--indicators", type=Path, default=DEFAULT_TABLE)
    _add_area_option(p)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--out", type=Path, help="output CSV (default "
                   "DATA/indicators/stability_<area>.csv, as the app reads it)")
    p.set_defaults(func=cmd_stability)

    p = sub.add_parser("hotspots", help="Getis-Ord Gi* hot spots of the area")
    _add_profile_options(p)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--permutations", type=int, default=0,
                   help="0: analytic (normal) p-values; N: N conditional permutations")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_hotspots)

    p = sub.add_parser("change", help="IoD2019 vs IoD2025 bands and police.uk counts "
                       "then and now (a county whose police.uk months are shipped)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    _add_area_option(p)
    p.add_argument("--out", type=Path, help="output CSV (default "
                   "DATA/indicators/change_<area>.csv, as the app reads it)")
    p.set_defaults(func=cmd_change)

    p = sub.add_parser("incidents", help="validate a partner incident extract; per-LSOA theme "
                       "counts and rates with small counts suppressed")
    p.add_argument("--in", dest="input", type=Path, required=True, metavar="FILE",
                   help="incident extract (CSV or .xlsx)")
    p.add_argument("--out", type=Path, help="write per-LSOA counts and rates (CSV) here")
    p.add_argument("--threshold", type=int, default=5,
                   help="counts from 1 to threshold-1 are suppressed (default 5)")
    p.add_argument("--max-reject-share", type=float, default=0.0,
                   help="share of bad rows that may be dropped (default 0: any bad row "
                        "refuses the file)")
    _add_area_option(p)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.set_defaults(func=cmd_incidents)

    p = sub.add_parser("backtest", help="fit the profile before some months and judge it "
                       "against their incidents, with baselines (Markdown table)")
    p.add_argument("--suite", action="store_true",
                   help="run the shipped backtests (profiler.backtest_data.SHIPPED_BACKTESTS) "
                        "and write their summary to --json (data/indicators/backtests.json)")
    p.add_argument("--fit-before", metavar="YYYY-MM",
                   help="first month the fitted profile may not see")
    p.add_argument("--test", metavar="MONTHS",
                   help="test months, e.g. 2024-03..2024-04 or 2024-03,2024-04")
    p.add_argument("--observed", metavar="MONTHS",
                   help="months for observed-violence indicators and the previous-period "
                        "baseline (all before --fit-before)")
    p.add_argument("--area", default=DEFAULT_AREA,
                   help=f"LSOAs judged: a district or county code or name (default "
                        f"{DEFAULT_AREA}); where police.uk months are not shipped, the "
                        "imported police.uk store is read")
    p.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    p.add_argument("--indicators", type=Path, default=DEFAULT_TABLE)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--incidents", type=Path, metavar="FILE",
                   help="CSV of month, crime_type, longitude, latitude, lsoa21_code (e.g. any "
                        "force's imported months) instead of the shipped files")
    p.add_argument("--partner-extract", type=Path, metavar="FILE",
                   help="a partner's incident extract (the dashboard's upload format, CSV or "
                        ".xlsx): its violence records are the observed and test incidents")
    p.add_argument("--crime-types", help="comma-separated police.uk types (default: violence "
                   "and sexual offences, possession of weapons, robbery, public order)")
    p.add_argument("--boot", type=int, default=1000, help="bootstrap draws (0 = no intervals)")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument("--csv", type=Path, help="also write the table as CSV")
    p.add_argument("--json", type=Path, help="also write the table and settings as JSON")
    p.add_argument("--lsoas", type=Path, help="also write per-LSOA scores, counts and "
                   "risk-vs-observed quadrants (CSV)")
    p.add_argument("--compare", type=Path, action="append", metavar="SPEC",
                   help="another spec to fit and judge alongside (repeatable)")
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser("docs", help="regenerate the README data dictionary from the spec")
    p.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    p.add_argument("--readme", type=Path, default=Path("README.md"))
    p.set_defaults(func=cmd_docs)

    _add_police_parser(sub)
    _add_postcodes_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ProfilerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
