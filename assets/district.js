/* District profile pages (pages/district.py): refit the map to the paper before printing.
 * Leaflet does not notice the print layout, so a printed map would show whatever part of the
 * district sat at the top left of the screen map. On beforeprint the page takes the paper's
 * width (body.svrp-printing, see print.css) and the map is fitted to the district's LSOAs,
 * which the LSOA layer registers under window.svrp.registry.dst. */
(function () {
    function districtLayers() {
        const root = document.getElementById("dst-root");
        const registry = (window.svrp && window.svrp.registry && window.svrp.registry.dst) || {};
        if (!root) { return []; }
        const view = window.svrp.state && window.svrp.state.dst;
        const inside = view && view.inside ? window.svrp.insideSet(view) : null;
        return Object.keys(registry).map(function (k) { return registry[k]; }).filter(function (l) {
            return l._map && l.feature && inside && inside.has(l.feature.properties.lsoa21_code);
        });
    }

    function fit() {
        const layers = districtLayers();
        if (!layers.length) { return false; }
        let s = 90, w = 180, n = -90, e = -180;
        layers.forEach(function (l) {
            const b = l.getBounds();
            s = Math.min(s, b.getSouth()); w = Math.min(w, b.getWest());
            n = Math.max(n, b.getNorth()); e = Math.max(e, b.getEast());
        });
        const map = layers[0]._map;
        map.invalidateSize(false);
        map.fitBounds([[s, w], [n, e]], {animate: false, padding: [6, 6]});
        return true;
    }

    /* The running header and footer of every printed page (@page margin boxes): the title, the
     * date printed and the data editions at the top, the sources and "Page n of N" below. Text
     * from the page's data-print-* attributes, written as CSS strings (JSON quoting). */
    function printStyle() {
        const root = document.getElementById("dst-root");
        if (!root) { return; }
        const d = root.dataset;
        const when = new Date().toLocaleDateString("en-GB", {day: "numeric", month: "long", year: "numeric"});
        const q = function (t) { return JSON.stringify(String(t || "")); };
        const css = "@page { margin: 15mm 10mm 17mm 10mm;" +
            " @top-left { content: " + q(d.printTitle) + "; font: 600 8pt system-ui, sans-serif; }" +
            " @top-right { content: " + q("Printed " + when + " · " + (d.printEditions || "")) +
            "; font: 7pt system-ui, sans-serif; text-align: right; }" +
            " @bottom-left { content: " + q(d.printSources) + "; font: 6.5pt system-ui, sans-serif; width: 82%; }" +
            " @bottom-right { content: \"Page \" counter(page) \" of \" counter(pages); font: 8pt system-ui, sans-serif; } }";
        let style = document.getElementById("svrp-print-page");
        if (!style) {
            style = document.createElement("style");
            style.id = "svrp-print-page";
            document.head.appendChild(style);
        }
        style.textContent = css;
    }

    /* plotly sizes a chart to its box once: resize the charts to the paper's width and back */
    function resizeCharts() {
        if (!window.Plotly || !window.Plotly.Plots) { return; }
        document.querySelectorAll("#dst-root .js-plotly-plot").forEach(function (g) {
            try { window.Plotly.Plots.resize(g); } catch (e) { /* a chart not drawn yet */ }
        });
    }

    window.addEventListener("beforeprint", function () {
        document.body.classList.add("svrp-printing");
        printStyle();
        fit();
        resizeCharts();
    });
    window.addEventListener("afterprint", function () {
        document.body.classList.remove("svrp-printing");
        fit();
        resizeCharts();
    });
    window.svrpDistrict = {fit: fit, printStyle: printStyle};
})();

/* Presentation mode (dashboard/present.py): slides of the compact High/Very High list turned by
 * the arrow or Page keys or the Previous/Next buttons, and the why-panel opened over the list
 * when a row (or an area of the map) is chosen; "Back to the list" or Esc closes it. */
(function () {
    function presenting() {
        const root = document.getElementById("dst-root");
        return !!root && root.classList.contains("svrp-present");
    }

    function turn(step) {
        const slides = Array.prototype.slice.call(
            document.querySelectorAll("#dst-slides .svrp-slide"));
        if (slides.length < 2) { return; }
        let at = slides.findIndex(function (s) { return !s.hidden; });
        at = Math.min(slides.length - 1, Math.max(0, at + step));
        slides.forEach(function (s, i) { s.hidden = i !== at; });
        const label = document.getElementById("dst-slide-label");
        if (label) { label.textContent = "Slide " + (at + 1) + " of " + slides.length; }
    }

    function openWhy(open) {
        const why = document.getElementById("dst-why");
        if (!why) { return; }
        why.classList.toggle("svrp-why-open", open);
        const target = open ? document.getElementById("dst-why-close")
            : document.querySelector("#dst-slides .svrp-slide:not([hidden]) .svrp-prow");
        if (target && open) { target.focus({preventScroll: true}); }
    }

    function titleText() {
        const t = document.querySelector("#dst-panel #panel-title");
        return t ? t.textContent : "";
    }

    document.addEventListener("click", function (e) {
        if (!presenting() || !e.target.closest) { return; }
        const row = e.target.closest(".svrp-prow");
        if (row) {
            if (window.svrp && window.svrp.canvas) { window.svrp.canvas.select("dst", row.dataset.code); }
            openWhy(true);
            return;
        }
        if (e.target.closest("#dst-why-close")) { openWhy(false); return; }
        if (e.target.closest("#dst-slide-next")) { turn(1); return; }
        if (e.target.closest("#dst-slide-prev")) { turn(-1); return; }
        if (e.target.closest("#dst-map") && !e.target.closest(".leaflet-control")) {
            // an area clicked on the map: open the panel once it shows that area
            const before = titleText();
            let tries = 0;
            const poll = setInterval(function () {
                tries += 1;
                const now = titleText();
                if (now && now !== before) { openWhy(true); }
                if ((now && now !== before) || tries > 30) { clearInterval(poll); }
            }, 100);
        }
    }, true);

    document.addEventListener("keydown", function (e) {
        if (!presenting()) { return; }
        const tag = (e.target && e.target.tagName) || "";
        if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
        if (e.key === "Escape") { openWhy(false); return; }
        if (e.key === "ArrowRight" || e.key === "PageDown") { turn(1); e.preventDefault(); }
        if (e.key === "ArrowLeft" || e.key === "PageUp") { turn(-1); e.preventDefault(); }
    });
    window.svrpPresent = {turn: turn, openWhy: openWhy};
})();
