/* Accessibility repairs and keyboard routes for every page (WCAG 2.2 AA, issue 15).
 *
 * 1. Dash 4.4's own components, repaired in the DOM as React renders them (React leaves an
 *    attribute alone until its own prop for it changes, and this runs again after each render):
 *    - RadioItems / Checklist render native radios and checkboxes inside <label role="option">
 *      in an unnamed role="listbox": an interactive role around inputs (nested-interactive) with
 *      no name. The labels lose the option role (the native inputs say everything) and the list
 *      becomes a named radiogroup / group.
 *    - Dropdown puts a hidden (aria-hidden) input in the tab order for Safari and takes its
 *      button out of it: the input leaves the tab order and the button, named by its <label>,
 *      joins it.
 *    - Slider thumbs (role=slider) and their number boxes have no name: they take the slider's.
 *    - DataTable's pager buttons are icons with no text; its page box has no label.
 *    A control's name is the data-svrp-name of an ancestor, else the heading or label just before
 *    the component (every page's controls have one), so a new control is named as it is shown.
 * 2. Keyboard routes for every map page's LSOA list (dashboard.components.high_risk_table): the
 *    LSOA code cell of each row is in the tab order, and Enter (or Space) on it selects that row
 *    as a click does (the table's active_cell), which opens the LSOA's "why" panel. Escape
 *    closes the panel (svrp.a11y.closers, by page) and puts focus back on the row.
 * No colour or text of the app's is written here beyond these names. */
(function () {
    "use strict";
    const svrp = window.svrp = window.svrp || {};
    const PAGER = {"first-page": "First page", "previous-page": "Previous page",
                   "next-page": "Next page", "last-page": "Last page"};
    const LABELLING = /^(H[1-6]|LABEL|LEGEND)$/;
    /* the LSOA list of every map page (overview, district and explore) and its code cells */
    /* The first element matching selector that is on screen (not in a closed <details>). */
    const firstShown = function (selector) {
        return Array.prototype.find.call(document.querySelectorAll(selector),
                                         function (e) {
            return e.offsetParent !== null && !e.closest("details:not([open])");
        }) || null;
    };
    const CODE_CELLS = ".svrp-list td[data-dash-column='lsoa21_code'], " +
        ".svrp-list-card td[data-dash-column='lsoa21_code']";

    function nameOf(el) {
        const named = el.closest("[data-svrp-name]");
        if (named) { return named.getAttribute("data-svrp-name"); }
        let root = el.closest("[id]");
        while (root) {
            const prev = root.previousElementSibling;
            if (prev && LABELLING.test(prev.tagName)) { return prev.textContent.trim(); }
            if (prev || !root.parentElement) { return null; }
            root = root.parentElement;  /* a wrapper with nothing before the component */
        }
        return null;
    }

    function setName(el, name) {
        if (name && !el.hasAttribute("aria-label") && !el.hasAttribute("aria-labelledby")) {
            el.setAttribute("aria-label", name);
        }
    }

    function repair(root) {
        /* RadioItems and Checklist only: a Dropdown's open list is a true listbox of options */
        root.querySelectorAll(".dash-radioitems[role='listbox'], .dash-checklist[role='listbox']")
            .forEach(function (list) {
                list.setAttribute("role", list.classList.contains("dash-radioitems") ? "radiogroup" : "group");
                setName(list, nameOf(list));
            });
        root.querySelectorAll(".dash-options-list-option[role], .dash-options-list-option[aria-selected]")
            .forEach(function (option) {
                if (!option.closest(".dash-radioitems, .dash-checklist")) { return; }
                option.removeAttribute("role");
                option.removeAttribute("aria-selected");
            });
        root.querySelectorAll("input.dash-dropdown-focus-target").forEach(function (input) {
            const button = input.nextElementSibling;
            if (input.tabIndex !== -1) { input.tabIndex = -1; }
            if (button && button.tagName === "BUTTON" && !button.disabled && button.tabIndex !== 0) {
                button.tabIndex = 0;
            }
        });
        root.querySelectorAll("[role='slider']:not([aria-label])").forEach(function (thumb) {
            setName(thumb, nameOf(thumb));
        });
        root.querySelectorAll("input.dash-range-slider-input:not([aria-label])").forEach(function (box) {
            const name = nameOf(box);
            setName(box, name && name + " (number)");
        });
        root.querySelectorAll(".previous-next-container button:not([aria-label])").forEach(function (b) {
            Object.keys(PAGER).forEach(function (k) { if (b.classList.contains(k)) { b.setAttribute("aria-label", PAGER[k]); } });
        });
        root.querySelectorAll(".previous-next-container input:not([aria-label])").forEach(function (box) {
            box.setAttribute("aria-label", "Page number (type a number, then Enter)");
        });
        /* the LSOA lists: each row's code cell is a keyboard stop */
        root.querySelectorAll(CODE_CELLS).forEach(function (cell) {
            if (cell.tabIndex !== 0) { cell.tabIndex = 0; }
            /* a sort or a new page re-uses the cell for another row */
            const label = cell.textContent.trim() + ": press Enter to explain this area";
            if (cell.getAttribute("aria-label") !== label) { cell.setAttribute("aria-label", label); }
        });
        /* the key's "district names" switch: shown where the map has names, in step with it */
        root.querySelectorAll(".svrp-labels-toggle").forEach(function (button) {
            const wrap = button.closest(".svrp-map-wrap");
            const has = !!(wrap && wrap.querySelector(".svrp-district-label"));
            if (button.hidden === has) { button.hidden = !has; }
            const off = !!(wrap && wrap.classList.contains("svrp-no-labels"));
            const text = off ? "Show district names" : "Hide district names";
            if (button.textContent !== text) { button.textContent = text; }
            if (button.getAttribute("aria-pressed") !== String(off)) { button.setAttribute("aria-pressed", String(off)); }
        });
        const skip = document.getElementById("svrp-skip-list");
        const list = document.querySelector(".svrp-list, .svrp-list-card");
        if (skip && skip.hidden === !!list) { skip.hidden = !list; }
        panelOpened();
        pageChanged();
    }

    /* A new page in the app (Dash's pages change without a load): focus left on a link that has
     * gone, or on nothing, moves to the new page's <main>, as a page load puts it at the top. */
    let address = location.pathname + location.search;
    function pageChanged() {
        const now = location.pathname + location.search;
        if (now === address) { return; }
        address = now;
        const a = document.activeElement;
        if (!a || a === document.body || !document.contains(a) || a.closest(".svrp-nav")) {
            const main = document.getElementById("svrp-main");
            if (main) { main.focus({preventScroll: true}); }
        }
    }

    document.addEventListener("click", function (e) {
        const button = e.target && e.target.closest && e.target.closest(".svrp-labels-toggle");
        const wrap = button && button.closest(".svrp-map-wrap");
        if (wrap) { wrap.classList.toggle("svrp-no-labels"); repair(document); }
    });

    /* The skip links: focus moves to the first row of the list (or to <main>), no address change. */
    document.addEventListener("click", function (e) {
        const link = e.target && e.target.closest && e.target.closest("a.svrp-skip");
        if (!link) { return; }
        e.preventDefault();
        const target = link.id === "svrp-skip-list"
            ? firstShown(CODE_CELLS) || firstShown(".svrp-list, .svrp-list-card")
            : document.getElementById("svrp-main");
        if (!target) { return; }
        if (target.tabIndex < 0 && !target.hasAttribute("tabindex")) { target.tabIndex = -1; }
        target.focus({preventScroll: true});
        target.scrollIntoView({block: "center"});
    });

    /* A panel that now explains another LSOA: on district pages (the panel is below the map and
     * the list) it is scrolled into view; after Enter on a list row, focus moves to it. */
    let shown = {};
    function panelOpened() {
        document.querySelectorAll(".svrp-panel").forEach(function (panel) {
            const title = panel.querySelector("#panel-title");
            const text = title ? title.textContent : "";
            if (shown[panel.id] === text) { return; }
            shown[panel.id] = text;
            if (!title) { return; }
            if (panel.tabIndex !== 0) { panel.tabIndex = 0; }  /* a scrollable region */
            const keyboard = svrp.a11y.returnTo && text.indexOf(svrp.a11y.returnTo) >= 0;
            if (keyboard) { panel.focus({preventScroll: true}); }
            if (keyboard || panel.id === "dst-panel") {
                panel.scrollIntoView({block: "nearest", behavior: keyboard ? "auto" : "smooth"});
            }
        });
    }

    let pending = false;
    function schedule() {
        if (pending) { return; }
        pending = true;
        window.requestAnimationFrame(function () { pending = false; repair(document); });
    }

    /* Enter or Space on a list row's code cell: the click DataTable listens for. */
    document.addEventListener("keydown", function (e) {
        /* DataTable takes Tab for itself once a cell has focus (and in its page box), which
         * traps keyboard users in the list: Tab keeps its browser meaning there. */
        if (e.key === "Tab" && e.target && e.target.closest && e.target.closest(".dash-table-container")) {
            e.stopPropagation();
            return;
        }
        const cell = e.target && e.target.closest && e.target.closest(CODE_CELLS);
        if (cell && (e.key === "Enter" || e.key === " ")) {
            e.preventDefault();
            e.stopPropagation();
            svrp.a11y.returnTo = cell.textContent.trim();
            cell.click();
            return;
        }
        if (e.key === "Escape") { svrp.a11y.close(e); }
    }, true);

    svrp.a11y = {
        repair: repair,
        returnTo: null,
        /* Escape: close the open "why" panel of the page (its selection cleared) and put focus
         * back on the list row that opened it. Pages without a panel have nothing to close. */
        close: function (e) {
            const dc = window.dash_clientside;
            if (!dc || !dc.set_props) { return; }
            if (document.querySelector(".dash-dropdown-content, [data-radix-popper-content-wrapper]")) {
                return;  /* an open dropdown closes first (its own Escape) */
            }
            const panel = document.querySelector(".svrp-panel");
            if (!panel || !panel.querySelector("#panel-title")) { return; }
            const key = panel.id.replace(/-panel$/, "");
            if (key === "ovw") { dc.set_props("ovw-selected", {data: null}); }
            dc.set_props(key + "-table", {active_cell: null, selected_cells: []});
            if (key === "dst" || key === "exp") { dc.set_props(key + "-lsoas", {clickData: null}); }
            if (window.svrp.canvas && window.svrp.state[key]) { window.svrp.canvas.select(key, null); }
            const code = svrp.a11y.returnTo;
            svrp.a11y.returnTo = null;
            const back = code && Array.prototype.find.call(
                document.querySelectorAll("#" + key + "-table td[data-dash-column='lsoa21_code']"),
                function (c) { return c.textContent.trim() === code; });
            if (back) { back.focus(); }
            if (e) { e.preventDefault(); }
        }
    };

    new MutationObserver(schedule).observe(document.documentElement, {
        childList: true, subtree: true, attributes: true,
        attributeFilter: ["role", "aria-selected", "tabindex"]
    });
    if (document.readyState !== "loading") { schedule(); } else {
        document.addEventListener("DOMContentLoaded", schedule);
    }
}());
