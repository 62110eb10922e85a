"""Fuzz the partner upload readers: malformed files raise PartnerDataError and nothing else."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import hostile
from profiler.geo import load_lsoa_boundaries
from profiler.partner import (
    PartnerDataError,
    ReadLimits,
    load_code_lookup,
    load_incidents,
    load_partner_indicators,
    read_table_upload,
)
from profiler.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
TODAY = date(2025, 6, 1)
SYNTHETIC = DATA / "partner" / "synthetic_incidents_warwickshire.csv"


@pytest.fixture(scope="module")
def ctx():
    table = pd.read_csv(DATA / "indicators" / "lsoa21_indicators.csv")
    warks = table[table["utla_code"] == "E10000031"].reset_index(drop=True)
    lines = SYNTHETIC.read_bytes().splitlines(keepends=True)
    return {
        "bounds": load_lsoa_boundaries(DATA, "warwickshire"),
        "lookup": load_code_lookup(DATA, table.set_index("lsoa21_code")["households_2021"]),
        "spec": load_spec(DATA / "indicators" / "spec.toml"),
        "warks": warks,
        # a valid extract using every location kind (lat/lon, grid, code), and a valid table
        "incidents": b"".join(lines[:1] + lines[1:40]),
        "indicators": pd.DataFrame({
            "lsoa21_code": warks["lsoa21_code"],
            "violence_with_injury": warks["violence_with_injury_per_1000"].round(3),
            "gang_flags": range(len(warks)),
        }).to_csv(index=False).encode(),
    }


NASTY = [b"\x00", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b'"', b",", b";", b"\t", b"|",
         b"\r", b"\n", b"\r\n", b"=cmd|' /C calc'!A0", b"<img src=x onerror=window.__xss=1>",
         b"E01999999", b"E01031005", b"nan", b"inf", b"-1", b"1e309", b"2024-02-30", b"99/99/9999",
         b"91.0", b"-181", b"\xe9", b"\xc3", b"\x80", b"\xd0\xcf\x11\xe0", b"PK\x03\x04", b"\x07",
         b"\\N", "\u202e".encode(), "\U0001f4a9".encode(), b"   ", b"", b"0x10", b"1,234"]


@st.composite
def mutated(draw, base: bytes) -> bytes:
    """Byte and text mutations of a valid CSV: splices, deletions, re-encodings, reshuffles."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "nasty", "lines",
                                   "encode", "delim", "dupe"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 40))]
        elif op == "replace":
            data[pos:pos + 1] = bytes([draw(st.integers(0, 255))])
        elif op == "truncate":
            del data[pos:]
        elif op == "nasty":
            data[pos:pos] = draw(st.sampled_from(NASTY))
        elif op == "lines":
            lines = bytes(data).split(b"\n")
            lines = draw(st.permutations(lines)) if len(lines) < 60 else lines[::-1]
            data = bytearray(b"\n".join(lines))
        elif op == "encode":
            text = bytes(data).decode("utf-8", errors="replace")
            codec = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-16-be", "cp1252",
                                          "latin-1", "utf-8-sig"]))
            data = bytearray(text.encode(codec, errors="replace"))
        elif op == "delim":
            old, new = draw(st.sampled_from([b","])), draw(st.sampled_from([b";", b"\t", b"|",
                                                                           b"", b",,", b'","']))
            data = bytearray(bytes(data).replace(old, new, draw(st.integers(1, 50))))
        else:
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            data = bytearray(b"\n".join(lines[: i + 1] + lines[i:]))
    return bytes(data)


@st.composite
def any_file(draw, base: bytes) -> bytes:
    return draw(st.one_of(mutated(base), st.binary(max_size=300)))


FUZZ = settings(max_examples=500, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


def _only_partner_errors(call) -> None:
    try:
        call()
    except PartnerDataError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg and "\r" not in msg, repr(msg)


@FUZZ
@given(data=st.data())
def test_fuz001_incident_extract_mutations_raise_only_partner_errors(ctx, data):
    content = data.draw(any_file(ctx["incidents"]))
    _only_partner_errors(lambda: load_incidents(
        content, "fuzz.csv", lsoa_boundaries=ctx["bounds"], lookup=ctx["lookup"], today=TODAY,
        max_reject_share=data.draw(st.sampled_from([0.0, 0.5, 0.99]))))


@FUZZ
@given(data=st.data())
def test_fuz002_indicator_table_mutations_raise_only_partner_errors(ctx, data):
    content = data.draw(any_file(ctx["indicators"]))
    before = ctx["warks"].copy()
    _only_partner_errors(lambda: load_partner_indicators(
        content, "fuzz.csv", ctx["spec"], ctx["warks"], lookup=ctx["lookup"],
        max_reject_share=data.draw(st.sampled_from([0.0, 0.5]))))
    assert ctx["warks"].equals(before)


@settings(max_examples=300, deadline=None)
@given(content=st.binary(max_size=2000))
def test_fuz003_reader_on_random_bytes(content):
    _only_partner_errors(lambda: read_table_upload(content, "random.bin"))


# -- issue 18: hostile workbooks, built here with zipfile, with small limits ------------------

SMALL = ReadLimits(max_rows=2000, max_cells=6000, max_unzipped_bytes=2_000_000, max_seconds=10)


def _bounded(content: bytes, limits: ReadLimits = SMALL, seconds: float = 3.0):
    """Read ``content`` under ``limits``: only PartnerDataError, and quickly."""
    started = time.perf_counter()
    try:
        frame = read_table_upload(content, "bomb.xlsx", limits=limits)
    except PartnerDataError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("bomb.xlsx: ")
        frame = exc
    assert time.perf_counter() - started < seconds
    return frame


@settings(max_examples=40, deadline=None)
@given(col=st.integers(201, 16384), row=st.integers(1, 1_048_576),
       dimension=st.sampled_from([None, "A1", "A1:B2", "A1:XFD1048576", "junk"]))
def test_fuz004_a_stray_cell_far_away_is_refused_before_reading(col, row, dimension):
    ref = f"{hostile.column_letters(col)}{row}"
    got = _bounded(hostile.xlsx([["a", "b"], [1, 2]], extra=[(ref, 1)], dimension=dimension))
    assert isinstance(got, PartnerDataError) and "used range reaches" in str(got)


@settings(max_examples=15, deadline=None)
@given(extra=st.integers(1, 400), refs=st.booleans(), width=st.integers(1, 3),
       dimension=st.sampled_from([None, "A1", "A1:A1", "A1:C3"]))
def test_fuz005_too_many_rows_or_cells_are_refused_whatever_the_dimension_says(
        extra, refs, width, dimension):
    rows = SMALL.max_rows + extra if width == 1 else SMALL.max_cells // width + extra
    got = _bounded(hostile.xlsx(hostile.header_rows(rows, width), refs=refs,
                                dimension=dimension))
    assert isinstance(got, PartnerDataError), type(got)
    assert re.search(r"more than [\d,]+ (rows|cells)|used range reaches row", str(got)), str(got)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(2, 50), dimension=st.sampled_from(["A1:XFD1048576", "A1:A1", None]))
def test_fuz006_a_lying_dimension_does_not_make_a_small_sheet_slow(n, dimension):
    frame = _bounded(hostile.xlsx(hostile.header_rows(n, 3), dimension=dimension),
                     seconds=2.0)
    assert isinstance(frame, pd.DataFrame) and len(frame) == n and frame.shape[1] == 3


@pytest.mark.parametrize("name,build,pattern", [
    ("entity bomb", lambda: hostile.xlsx(sheet=hostile.entity_bomb()), "DOCTYPE"),
    ("sizes lie", lambda: hostile.lying_sizes(hostile.xlsx(hostile.header_rows(300, 3))),
     "damaged zip"),
    ("members", lambda: hostile.xlsx([["a"], [1]], members={f"m{i}": b"" for i in range(1001)}),
     "holds 1,00[0-9] files"),
    ("expands", lambda: hostile.xlsx([["a"], [1]], members={"z": bytes(2_100_000)}),
     "expands to"),
    ("nesting", lambda: hostile.xlsx(sheet=[b"<worksheet><sheetData><row>", b"<x>" * 50_000,
                                            b"</x>" * 50_000, b"</row></sheetData></worksheet>"]),
     "first sheet is empty|not a readable"),
    ("truncated", lambda: hostile.xlsx([["a"], [1]])[:-25], "damaged zip|not a"),
    ("not xml", lambda: hostile.xlsx(sheet=[b"\x00\x01<<<"]), "not a readable"),
])
def test_fuz007_hostile_workbooks_refused_in_one_line(name, build, pattern):
    got = _bounded(build())
    assert isinstance(got, PartnerDataError) and re.search(pattern, str(got)), str(got)


def test_fuz008_reading_has_a_time_budget():
    blob = b"a,b\n" + b"1,2\n" * 100_000
    tight = ReadLimits(max_rows=500_000, max_seconds=1e-9)
    with pytest.raises(PartnerDataError, match=r"took longer than"):
        read_table_upload(blob, "slow.csv", limits=tight)
    with pytest.raises(PartnerDataError, match=r"took longer than"):
        read_table_upload(hostile.xlsx(hostile.header_rows(3000, 1)), "slow.xlsx",
                          limits=ReadLimits(max_seconds=1e-9))


def test_fuz009_limits_are_settings_and_gunicorn_gets_the_timeout():
    import serve
    from dashboard import partner_state as ps
    from dashboard.settings import Settings

    env = {"SVRP_PARTNER_XLSX_MAX_CELLS": "5000", "SVRP_PARTNER_UNZIPPED_MAX_BYTES": "200000",
           "SVRP_PARTNER_READ_SECONDS": "3", "SVRP_PARTNER_MAX_ROWS": "1000",
           "SVRP_REQUEST_TIMEOUT": "30"}
    s = Settings.from_env(env)
    assert ps.read_limits(s) == ReadLimits(max_rows=1000, max_cells=5000,
                                           max_unzipped_bytes=200_000, max_seconds=3.0)
    assert serve.options(s)["timeout"] == 30
    assert serve.options(Settings.from_env({}))["timeout"] == 60
