"""Documentation generated from the spec cannot drift from it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from synth import make_spec

from profiler.docs import (
    ATTRIBUTIONS,
    data_dictionary_markdown,
    methodology_markdown,
    replace_block,
    update_readme,
)
from profiler.errors import ProfilerError
from profiler.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC = load_spec(ROOT / "data/indicators/spec.toml")
BLOCK = re.compile(r"<!-- BEGIN data-dictionary -->\n(.*?)<!-- END data-dictionary -->", re.S)


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_doc001_every_indicator_documented():
    table, method = data_dictionary_markdown(SPEC), methodology_markdown(SPEC)
    for ind in SPEC.indicators:
        assert f"`{ind.id}`" in table and ind.label in table
        assert ind.label in method and ind.rationale in method
        assert ind.source in method and ind.period in method and ind.licence in method
    assert "<" not in method.replace("<!--", "")  # no raw HTML on the methodology page
    assert table.count("\n") == len(SPEC.indicators) + 2  # header, rule, one row each


def test_doc002_readme_dictionary_is_generated():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = BLOCK.search(readme)
    if block is None:
        pytest.skip("README.md has no <!-- BEGIN/END data-dictionary --> markers yet")
    assert block.group(1) == data_dictionary_markdown(SPEC), (
        "README data dictionary is out of date: run `python -m profiler docs`"
    )


def test_doc003_replace_block():
    text = "a\n<!-- BEGIN x -->\nold\n<!-- END x -->\nb"
    assert replace_block(text, "x", "new") == "a\n<!-- BEGIN x -->\nnew\n<!-- END x -->\nb"


def test_doc004_attributions_match_provenance():
    provenance = _squash((ROOT / "data/PROVENANCE.md").read_text(encoding="utf-8"))
    for what, text in ATTRIBUTIONS:
        assert _squash(text) in provenance, f"{what}: attribution no longer in data/PROVENANCE.md"
    method = methodology_markdown(SPEC)
    assert "## Attributions" in method and "Open Parliament Licence" in method
    assert "[year]" not in method


def test_doc005_update_readme_rewrites_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- BEGIN data-dictionary -->\nstale\n"
                      "<!-- END data-dictionary -->\noutro\n", encoding="utf-8")
    assert update_readme(readme, SPEC) is True
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("intro\n") and text.endswith("outro\n")
    assert BLOCK.search(text).group(1) == data_dictionary_markdown(SPEC)
    assert update_readme(readme, SPEC) is False  # idempotent


def test_doc006_update_readme_without_markers_is_a_one_line_error(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n", encoding="utf-8")
    with pytest.raises(ProfilerError, match="data-dictionary") as info:
        update_readme(readme, SPEC)
    assert "\n" not in str(info.value) and str(readme) in str(info.value)
    assert readme.read_text(encoding="utf-8") == "no markers here\n"


def test_doc007_any_spec_is_documented():
    spec = make_spec(6, directions=["lower_is_riskier"] * 6)
    table, method = data_dictionary_markdown(spec), methodology_markdown(spec)
    for ind in spec.indicators:
        assert f"`{ind.id}`" in table and f"### {ind.label}" in method
    assert "lower = riskier" in table


def test_doc008_markdown_cells_escape_pipes():
    spec = make_spec(2)
    first = dataclasses.replace(spec.indicators[0], label="a | b")
    spec = dataclasses.replace(spec, indicators=(first, *spec.indicators[1:]))
    assert "a \\| b" in data_dictionary_markdown(spec)
