"""Fuzz the partner upload readers: malformed files raise PartnerDataError and nothing else."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiler.geo import load_lsoa_boundaries
from profiler.partner import (
    PartnerDataError,
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
