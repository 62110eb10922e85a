"""The methodology page, generated from the spec, in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from browserkit import wait_for
from selenium.webdriver.common.by import By

from profiler.spec import load_spec

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def test_mth001_methodology_lists_every_indicator_and_attribution(page, server):
    spec = load_spec(ROOT / "data/indicators/spec.toml")
    page.get(f"{server}/methodology")
    text = wait_for(lambda: page.find_element(By.ID, "mth-text").text, timeout=15)
    headings = [h.text for h in page.find_elements(By.CSS_SELECTOR, "#mth-text h3")]
    assert len(spec.indicators) == 13
    assert headings == [f"{i.label} ({i.id})" for i in spec.indicators]
    for ind in spec.indicators:
        assert ind.rationale in text and ind.period in text
    for words in ("Open Government Licence", "Open Parliament Licence", "data.police.uk",
                  "two standard deviations", "-23 ln"):
        assert words in text, words
    assert not page.find_elements(By.CSS_SELECTOR, "#mth-text script, #mth-text iframe")
