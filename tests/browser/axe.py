"""axe-core in the browser suite: inject it into the page under test and run the WCAG rules.

axe-core comes from npm (``tests/browser/package.json``, pinned by the committed
``package-lock.json``); ``make test`` runs ``npm ci --prefix tests/browser`` when node_modules is
missing or older than the lock file. It is injected with selenium's ``execute_script``, which
chromedriver runs through the DevTools protocol (``Runtime.callFunctionOn``), outside the page's
Content-Security-Policy: no ``<script>`` tag is added, so the app's CSP (no inline scripts, no
``eval``) stays on for the page under test, and axe itself evaluates no strings.

``axe_violations(drv)`` returns axe's violations for the WCAG 2.0/2.1/2.2 A and AA tags;
``assert_no_violations(drv, name)`` fails with one line per rule and node (rule id, impact,
CSS target, axe's failure summary), and keeps the raw result under ``artifacts/a11y/``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE.parents[1] / "artifacts" / "a11y"
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")

_SOURCE: list[str] = []

RUN_JS = """
const done = arguments[arguments.length - 1];
const tags = arguments[0];
const context = arguments[1] || document;
window.axe.run(context, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
    .then(function (r) {
        done({violations: r.violations.map(function (v) {
            return {id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                    nodes: v.nodes.map(function (n) {
                        return {target: n.target, html: n.html.slice(0, 300),
                                summary: n.failureSummary};
                    })};
        })});
    })
    .catch(function (err) { done({error: String(err)}); });
"""


def axe_source() -> str:
    """The text of ``axe.min.js`` (skips the test when npm is absent and it is not installed)."""
    if not _SOURCE:
        if not AXE_JS.exists():
            hint = "run 'npm ci --prefix tests/browser' (make test does it)"
            if shutil.which("npm") is None:
                pytest.skip(f"axe-core is not installed and there is no npm: {hint}")
            pytest.fail(f"{AXE_JS.relative_to(HERE.parents[1])} is missing: {hint}")
        _SOURCE.append(AXE_JS.read_text(encoding="utf-8"))
    return _SOURCE[0]


def inject(drv) -> None:
    """Put ``window.axe`` on the current page (once per page load)."""
    if not drv.execute_script("return !!window.axe;"):
        drv.execute_script(axe_source() + "\n;return !!window.axe;")
    assert drv.execute_script("return !!(window.axe && window.axe.run);"), "axe did not load"


def axe_violations(drv, context: str | None = None, timeout: float = 60.0) -> list[dict]:
    """axe's violations on the current page (``context``: a CSS selector to limit the run)."""
    inject(drv)
    drv.set_script_timeout(timeout)
    out = drv.execute_async_script(RUN_JS, list(TAGS), context)
    if out.get("error"):
        raise AssertionError(f"axe.run failed: {out['error']}")
    return out["violations"]


def count(violations: list[dict]) -> tuple[int, int]:
    """(nodes, rules) of a violation list, as the issue's table reads them."""
    return sum(len(v["nodes"]) for v in violations), len(violations)


def report(violations: list[dict], limit: int = 60) -> str:
    """One line per failing node: rule, impact, target and axe's summary (first ``limit``)."""
    lines = []
    for v in violations:
        for n in v["nodes"]:
            summary = " ".join((n.get("summary") or "").split())
            lines.append(f"{v['id']} ({v['impact']}) {' '.join(map(str, n['target']))}: "
                         f"{summary[:300]}")
    more = len(lines) - limit
    return "\n".join(lines[:limit] + ([f"... and {more} more"] if more > 0 else []))


def save(name: str, violations: list[dict]) -> Path:
    """Keep the raw violations as ``artifacts/a11y/<name>.json``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.json"
    path.write_text(json.dumps(violations, indent=1), encoding="utf-8")
    return path


def assert_no_violations(drv, name: str, context: str | None = None) -> None:
    """Fail with every violation axe finds on the page (WCAG 2.2 A and AA); keep the result."""
    violations = axe_violations(drv, context)
    save(name, violations)
    nodes, rules = count(violations)
    assert not violations, (
        f"axe: {nodes} violation nodes ({rules} rules) on {name}:\n{report(violations)}"
    )
