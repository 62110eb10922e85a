"""Documentation generated from the spec cannot drift from it."""

from __future__ import annotations

import re
from pathlib import Path

from profiler.docs import data_dictionary_markdown, methodology_markdown, replace_block
from profiler.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC = load_spec(ROOT / "data/indicators/spec.toml")


def test_doc001_every_indicator_documented():
    table, method = data_dictionary_markdown(SPEC), methodology_markdown(SPEC)
    for ind in SPEC.indicators:
        assert f"`{ind.id}`" in table and ind.label in method and ind.rationale in method
    assert "<" not in method.replace("<!--", "")  # no raw HTML on the methodology page


def test_doc002_readme_dictionary_is_generated():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- BEGIN data-dictionary -->\n(.*?)<!-- END data-dictionary -->",
                      readme, re.S)
    assert block and block.group(1) == data_dictionary_markdown(SPEC), (
        "README data dictionary is out of date: run `python -m profiler docs`"
    )


def test_doc003_replace_block():
    text = "a\n<!-- BEGIN x -->\nold\n<!-- END x -->\nb"
    assert replace_block(text, "x", "new") == "a\n<!-- BEGIN x -->\nnew\n<!-- END x -->\nb"
