"""Spec and table validation, and the command-line interface's handling of bad input."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from synth import random_table

from profiler.__main__ import main as _main
from profiler.errors import ProfilerError
from profiler.spec import load_spec, parse_spec
from profiler.table import load_indicator_table

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "data" / "indicators" / "spec.toml"

GOOD_SPEC = """
[profile]
normalisation = "zscore"
banding = "stddev"
reference = "county"

[[indicator]]
id = "a"
label = "A"
column = "c0"
direction = "higher_is_riskier"
weight = 1.0
themes = ["knife"]
unit = "u"
source = "s"
period = "p"
licence = "OGL v3.0"
rationale = "r"

[[indicator]]
id = "b"
label = "B"
column = "c1"
direction = "lower_is_riskier"
weight = 2.0
themes = ["domestic", "public_place"]
unit = "u"
source = "s"
period = "p"
licence = "OGL v3.0"
rationale = "r"
"""


@pytest.fixture
def files(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(GOOD_SPEC)
    table = tmp_path / "table.csv"
    random_table(60, 2).to_csv(table, index=False)
    return spec, table


def main(argv):
    return _main([str(a) for a in argv])


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "profiler", *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )


def test_cli001_score_writes_one_row_per_lsoa(files, tmp_path):
    spec, table = files
    out = tmp_path / "out.csv"
    assert main(["score", "--spec", spec, "--indicators", table, "--scope", "england",
                 "--reference", "england", "--out", out]) == 0
    df = pd.read_csv(out)
    assert len(df) == 60 and df["lsoa21_code"].is_unique
    for col in ("score", "rank", "band", "knife_band", "a_value", "a_norm", "a_contribution",
                "b_band"):
        assert col in df.columns
    assert df["rank"].min() == 1 and df["score"].is_monotonic_decreasing


def test_cli002_default_spec_validates():
    spec = load_spec(SPEC)
    assert len(spec.indicators) == 13
    assert set(spec.profile.__dict__) >= {"normalisation", "banding", "reference"}


SPEC_ERRORS = [
    ("duplicate id", ('id = "b"', 'id = "a"'), r"duplicate id\(s\) 'a'"),
    ("zero weight", ("weight = 2.0", "weight = 0"), r"id='b' weight: got 0; weights must be > 0"),
    ("negative weight", ("weight = 2.0", "weight = -1"), r"weight: got -1"),
    ("bad direction", ('"lower_is_riskier"', '"down"'), r"direction: got 'down'; use one of"),
    ("bad theme", ('["knife"]', '["knives"]'), r"themes: unknown theme\(s\) 'knives'"),
    ("bad banding", ('banding = "stddev"', 'banding = "jenks"'), r"banding: got 'jenks'"),
    ("unknown key", ('label = "A"', 'label = "A"\nlable = "x"'), r"unknown key\(s\) lable"),
    ("missing key", ('rationale = "r"\n\n[[', '\n[['), r"missing key\(s\) rationale"),
    ("fixed without thresholds", ('banding = "stddev"', 'banding = "fixed"'), r"fixed_thresholds"),
]


@pytest.mark.parametrize("name,change,pattern", SPEC_ERRORS, ids=[e[0] for e in SPEC_ERRORS])
def test_cli003_bad_spec_one_line_error_exit_2(files, tmp_path, capsys, name, change, pattern):
    spec, table = files
    spec.write_text(GOOD_SPEC.replace(*change, 1))
    out = tmp_path / "out.csv"
    assert main(["score", "--spec", spec, "--indicators", table, "--out", out]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {spec}") and "\n" not in err
    assert re.search(pattern, err), err
    assert not out.exists()


def _corrupt(table: Path, how: str) -> None:
    df = pd.read_csv(table)
    if how == "unknown column":
        df = df.rename(columns={"c1": "c1_renamed"})
    elif how == "duplicate code":
        df.loc[5, "lsoa21_code"] = df.loc[4, "lsoa21_code"]
    elif how == "malformed code":
        df.loc[2, "lsoa21_code"] = "W01000001"
    elif how == "non-numeric":
        df["c0"] = df["c0"].astype(object)
        df.loc[7, "c0"] = "1,234"
    elif how == "missing value":
        df.loc[9, "c1"] = None
    df.to_csv(table, index=False)


TABLE_ERRORS = [
    ("unknown column", r"no column 'c1' for indicator 'b'.*did you mean 'c1_renamed'"),
    ("duplicate code", r"lsoa21_code: duplicate LSOA code\(s\) 'E01000004'"),
    ("malformed code", r"1 malformed LSOA code\(s\), first 'W01000001' \(rows 4\)"),
    ("non-numeric", r"column c0: 1 non-numeric value\(s\), first '1,234' at 'E01000007'"),
    ("missing value", r"column c1: 1 blank value\(s\), first at 'E01000009'.*missing = \"median\""),
]


@pytest.mark.parametrize("how,pattern", TABLE_ERRORS, ids=[e[0] for e in TABLE_ERRORS])
def test_cli004_bad_table_one_line_error_exit_2(files, tmp_path, capsys, how, pattern):
    spec, table = files
    _corrupt(table, how)
    out = tmp_path / "out.csv"
    out.write_text("previous result\n")
    assert main(["score", "--spec", spec, "--indicators", table, "--out", out]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {table}") and "\n" not in err
    assert re.search(pattern, err), err
    assert out.read_text() == "previous result\n"  # nothing half-written


def test_cli005_missing_files_name_the_fix(files, tmp_path, capsys):
    spec, table = files
    assert main(["score", "--spec", tmp_path / "nope.toml", "--indicators", table,
                 "--out", tmp_path / "o.csv"]) == 2
    assert "spec file not found" in capsys.readouterr().err
    assert main(["score", "--spec", spec, "--indicators", tmp_path / "nope.csv",
                 "--out", tmp_path / "o.csv"]) == 2
    assert "python -m profiler build" in capsys.readouterr().err


def test_cli006_invalid_toml_and_bad_weights(files, tmp_path, capsys):
    spec, table = files
    spec.write_text("[profile\n")
    assert main(["check-spec", "--spec", spec]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    spec.write_text(GOOD_SPEC)
    for weights, msg in (("a=x", "'x' is not a number"), ("zz=1", "unknown indicator id"),
                         ("a=-1", "between 0 and"), ("a=0,b=0", "at least one indicator"),
                         ("a", "is not id=number")):
        assert main(["score", "--spec", spec, "--indicators", table, "--weights", weights,
                     "--out", tmp_path / "o.csv"]) == 2
        assert msg in capsys.readouterr().err


def test_cli007_bad_scope_and_band(files, tmp_path, capsys):
    spec, table = files
    assert main(["score", "--spec", spec, "--indicators", table, "--scope", "Atlantis",
                 "--out", tmp_path / "o.csv"]) == 2
    assert "area 'Atlantis': no English county" in capsys.readouterr().err
    assert main(["export", "--spec", spec, "--indicators", table, "--band", "Extreme",
                 "--out", tmp_path / "o.csv"]) == 2
    assert "--band: unknown band(s) 'Extreme'" in capsys.readouterr().err


def test_cli008_subprocess_exit_status_and_single_line():
    proc = run_cli("check-spec", "--spec", "does/not/exist.toml")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: does/not/exist.toml")


def test_cli009_parse_spec_requires_indicators():
    with pytest.raises(ProfilerError, match="no indicators declared"):
        parse_spec({"profile": {}}, source="x.toml")


def test_cli010_with_weights_and_profile_validate():
    spec = load_spec(SPEC)
    last = spec.ids[-1]
    assert spec.with_weights({last: 0}).weights[last] == 0
    with pytest.raises(ProfilerError, match="cap"):
        spec.with_profile(cap=0.7)


def test_cli011_check_spec_with_table(files, capsys):
    spec, table = files
    assert main(["check-spec", "--spec", spec, "--indicators", table]) == 0
    assert "OK, 2 indicators" in capsys.readouterr().out


def test_cli012_load_table_strips_and_validates(files):
    spec, table = files
    df = load_indicator_table(table, load_spec(spec))
    assert df["c0"].dtype == float and len(df) == 60
