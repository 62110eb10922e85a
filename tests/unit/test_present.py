"""Presentation mode's compact list (dashboard.present): slides, rows, band words."""

from __future__ import annotations

from dashboard.present import PER_SLIDE, ROW_TYPE, present_list


def _rows(n):
    return [{"lsoa21_code": f"E01{i:06d}", "msoa": f"Place {i}", "band": "Very High" if i < 5
             else "High", "drivers": "Violence with injury"} for i in range(n)]


def _walk(node):
    yield node
    children = getattr(node, "children", None) or []
    for child in [children] if hasattr(children, "to_plotly_json") else children:
        if hasattr(child, "to_plotly_json"):
            yield from _walk(child)


def test_prs001_one_slide_when_the_list_fits():
    div = present_list(_rows(PER_SLIDE - 5), {"E01000001": "Nuneaton and Bedworth 012A"})
    slides = [n for n in _walk(div) if "svrp-slide" in str(getattr(n, "className", "")).split()]
    assert len(slides) == 1 and not slides[0].hidden
    buttons = [n for n in _walk(div) if isinstance(getattr(n, "id", None), dict)]
    assert [b.id["id"] for b in buttons] == [r["lsoa21_code"] for r in _rows(PER_SLIDE - 5)]
    assert all(b.id["type"] == ROW_TYPE for b in buttons)
    # the band is said in words, not colour alone, and the LSOA name's suffix tells rows apart
    texts = [" ".join(str(c.children) for c in b.children) for b in buttons]
    assert "Very High" in texts[0] and "Place 1 012A" in texts[1]


def test_prs002_slides_of_per_slide_rows_with_a_turn_control():
    n = 2 * PER_SLIDE + 3
    div = present_list(_rows(n))
    slides = [s for s in _walk(div) if "svrp-slide" in str(getattr(s, "className", "")).split()]
    assert [len(s.children) for s in slides] == [PER_SLIDE, PER_SLIDE, 3]
    assert [bool(s.hidden) for s in slides] == [False, True, True]
    assert slides[1].start == PER_SLIDE + 1
    ids = {x.id for x in _walk(div) if isinstance(getattr(x, "id", None), str)}
    assert {"dst-slide-prev", "dst-slide-next", "dst-slide-label"} <= ids


def test_prs003_empty_list_says_so():
    div = present_list([], sub_level="ward")
    assert "No High or Very High LSOAs in this ward" in str(div.children)
