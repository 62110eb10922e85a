/* Map functions referenced from Python as {"variable": "svrp.<name>"}, and the restyle path of
 * every map page's LSOA canvas layer (assets/svrp-canvas.js). Hand-written (not generated at import
 * time). Data strings are only ever set with textContent, never parsed as HTML. No colour or
 * class label is written here: palettes, labels, line colours and outlines come from Python in
 * each view (dashboard/area.py: map_view) or layer hideout. */
window.svrp = Object.assign(window.svrp || {}, {
    /* Maps whose page has a "<key>-drawn" store: it gets the feature count once the shapes are
     * drawn, so the page can hold back heavy components (plotly charts) until then. */
    drawnStores: ["ovw", "dst"],

    notifyDrawn: function (key, n) {
        const dc = window.dash_clientside;
        if (window.svrp.drawnStores.indexOf(key) < 0 || !dc || !dc.set_props) { return; }
        window.requestAnimationFrame(function () {
            dc.set_props(key + "-drawn", {data: {features: n, at: performance.now()}});
        });
    },

    restyle: function (view) {
        if (!view || !view.key) { return window.dash_clientside.no_update; }
        const before = window.svrp.state[view.key];
        window.svrp.state[view.key] = view;
        if (window.svrp.canvas) { window.svrp.canvas.view(view, before); }  /* attaches the layer */
        const layers = window.svrp.registry[view.key] || {};
        const context = {hideout: view};
        Object.keys(layers).forEach(function (code) {
            const layer = layers[code];
            layer.setStyle(window.svrp.lsoaStyle(layer.feature, context));
        });
        const n = Object.keys(layers).length;
        window.svrp.mark(view.key, "restyled", {restyles: ((window.svrp.marks[view.key] || {}).restyles || 0) + 1});
        return n;
    },

    /* Keep svrp.zoom[key] current; restyle when the map crosses the outline threshold. */
    watchZoom: function (key, layer, tries) {
        const map = layer && layer._map;
        if (!map) {  /* the layer group may be added to the map just after its features */
            if ((tries || 0) < 50) { setTimeout(function () { window.svrp.watchZoom(key, layer, (tries || 0) + 1); }, 20); }
            return;
        }
        if (map._svrpWatched === key) { return; }
        map._svrpWatched = key;
        window.svrp.zoom[key] = map.getZoom();
        const first = window.svrp.state[key];
        if (first && first.outline_min_zoom !== undefined && window.svrp.zoom[key] >= first.outline_min_zoom) {
            window.svrp.restyle(first);
        }
        map.on("zoomend", function () {
            const before = window.svrp.zoom[key];
            window.svrp.zoom[key] = map.getZoom();
            const h = window.svrp.state[key];
            if (h && h.outline_min_zoom !== undefined &&
                (before < h.outline_min_zoom) !== (window.svrp.zoom[key] < h.outline_min_zoom)) {
                window.svrp.restyle(h);
            }
        });
    },

    /* A hovered LSOA's tooltip: name, MSOA, district, class and partner detail, as text. */
    tooltipBox: function (p, context) {
        const h = window.svrp.current(context && context.hideout);
        const band = window.svrp.bandOf(h, p);
        const box = document.createElement("div");
        const lines = [
            [p.lsoa21_name + " (" + p.lsoa21_code + ")", "svrp-tip-title"],
            ["MSOA: " + p.msoa21_hcl_name, ""],
            ["District: " + p.lad24_name, ""],
            [(h.layer_label || "Risk") + ": " + window.svrp.classText(h, p, band), "svrp-tip-band"]
        ];
        /* partner counts, already suppressed on the server ("<5", "rate suppressed") */
        const detail = (h.detail || {})[p.lsoa21_code];
        if (typeof detail === "string") { lines.push([detail, "svrp-tip-detail"]); }
        lines.forEach(function (pair) {
            const row = document.createElement("div");
            row.textContent = pair[0];
            if (pair[1]) { row.className = pair[1]; }
            box.appendChild(row);
        });
        return box;
    },

    /* The class name of a feature in the current view, with its detail (e.g. "Medium → High")
     * when the view carries one. Plain text only. */
    classText: function (h, props, band) {
        if (band === undefined) { return "no data"; }
        const label = (h.labels || [])[band];
        const detail = h.details && h.details[props.lsoa21_code];
        return detail ? label + " (" + detail + ")" : label;
    },

    /* A sub-area's name: at its label_at point (clear of its High and Very High LSOAs, see
     * dashboard/home.py: label_points) where the view gives one, else at its centre. */
    districtLabel: function (feature, layer) {
        const label = document.createElement("span");
        label.textContent = feature.properties.lad_name;
        const options = {permanent: true, direction: "center", className: "svrp-district-label",
                         interactive: false};
        const at = feature.properties.label_at;
        if (!at) { layer.bindTooltip(label, options); return; }
        const tip = L.tooltip(options).setLatLng(at).setContent(label);
        layer.on("add", function () { if (layer._map) { layer._map.addLayer(tip); } });
        layer.on("remove", function () { tip.remove(); });
    },

    /* police.uk points and heat cells: colours from the layer's hideout (dashboard.state). */
    incidentPoint: function (feature, latlng, context) {
        const s = window.svrp;
        const pm = s.marks.points = s.marks.points || {made: 0};
        pm.made += 1;
        pm.last = performance.now();
        const h = (context && context.hideout) || {};
        const p = feature.properties || {};
        const colour = (h.colours || {})[p.crime_type] || h.other;
        /* points sit in their own pane above the area colours (h.pane); inside it, one pane
         * (and SVG) per month, so the period control shows or hides a month by one pane's
         * display (svrp.showPeriod), with no points or geometry sent again */
        const opts = {radius: 4, color: h.ring, weight: 1, fillColor: colour, fillOpacity: 0.9,
                      pane: h.pane || "overlayPane"};
        const month = String(p.month || "").replace(/[^0-9-]/g, "");
        const map = context && context.map;
        if (map && month) {
            const name = "svrp-m-" + month;
            const parent = map.getPane(opts.pane) || map.getPane("overlayPane");
            const renderers = map._svrpMonths = map._svrpMonths || {};
            let pane = map.getPane(name);
            if (pane && !parent.contains(pane)) {
                /* the points pane was made again (a new layer, e.g. a type filter): its month
                 * panes and their renderers went with the old one */
                if (renderers[name]) { map.removeLayer(renderers[name]); delete renderers[name]; }
                delete map._panes[name];
                pane = null;
            }
            if (!pane) {
                pane = map.createPane(name, parent);
                pane.classList.add("svrp-month-pane");
                pane.style.display = s.pointPeriod && s.pointPeriod !== "all" &&
                    s.pointPeriod !== month ? "none" : "";
            }
            renderers[name] = renderers[name] || L.svg({pane: name});
            opts.pane = name;
            opts.renderer = renderers[name];
            s.pointMap = map;
        }
        const marker = L.circleMarker(latlng, Object.assign(opts, {className: "svrp-pt"}));
        marker.bindTooltip(s.incidentTip(p), {direction: "top", sticky: true, className: "svrp-incident-tip"});
        return marker;
    },

    /* Show one month of incident points (or "all"): each month's points are in their own pane
     * (svrp.incidentPoint), so this sets one pane's display per month; nothing is sent. */
    showPeriod: function (period) {
        const s = window.svrp;
        s.pointPeriod = /^\d{4}-\d{2}$/.test(period || "") ? period : "all";
        const map = s.pointMap;
        if (map && map._panes) {
            for (const name of Object.keys(map._panes)) {
                if (name.indexOf("svrp-m-") !== 0) { continue; }
                const on = s.pointPeriod === "all" || name === "svrp-m-" + s.pointPeriod;
                map._panes[name].style.display = on ? "" : "none";
            }
        }
        s.mark("points", "restyled", {period: s.pointPeriod, called: performance.now()});
        return s.pointPeriod;
    },

    /* An incident's tooltip as text nodes only: type, month, and where police.uk put it. */
    incidentTip: function (p) {
        const box = document.createElement("div");
        const names = ["January", "February", "March", "April", "May", "June", "July", "August",
                       "September", "October", "November", "December"];
        const m = /^(\d{4})-(\d{2})$/.exec(String(p.month || ""));
        [[String(p.crime_type || "Incident"), "svrp-tip-title"],
         ["Month: " + (m ? names[parseInt(m[2], 10) - 1] + " " + m[1] : String(p.month || "")), ""],
         ["Snapped location (police.uk): an anonymous point on or near the street", "svrp-tip-detail"]
        ].forEach(function (pair) {
            const row = document.createElement("div");
            row.textContent = pair[0];
            if (pair[1]) { row.className = pair[1]; }
            box.appendChild(row);
        });
        return box;
    },

    heatCell: function (feature, latlng, context) {
        const steps = ((context && context.hideout) || {}).heat || [];
        const i = feature.properties.intensity;
        const colour = steps[i > 0.66 ? 2 : (i > 0.33 ? 1 : 0)];
        const pane = ((context && context.hideout) || {}).pane || "overlayPane";
        return L.circleMarker(latlng, {radius: 7 + 6 * i, stroke: false, fillColor: colour,
                                       fillOpacity: 0.12 + 0.5 * i, interactive: false, pane: pane});
    }
});

/* Clientside callbacks are looked up in window.dash_clientside.<namespace>. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    svrp: {
        restyle: function (view) {
            const before = window.svrp.state[view && view.key];
            const n = window.svrp.restyle(view);
            /* a selection made off the map (the list, the address): the map goes to it */
            if (view && view.selected && before && before.selected !== view.selected && window.svrp.canvas) {
                window.svrp.canvas.zoomTo(view.key, view.selected);
            }
            return n;
        },
        showPeriod: function (period) { return window.svrp.showPeriod(period); },
        /* A page's list: a selected row outlines its LSOA on the canvas map (the view's key). */
        selectRow: function (cell, view) {
            const dc = window.dash_clientside;
            if (!cell || !cell.row_id || !view || !window.svrp.canvas) { return dc.no_update; }
            const canvas = window.svrp.canvas;
            if (!canvas.select(view.key, cell.row_id)) { return dc.no_update; }
            canvas.zoomTo(view.key, cell.row_id);
            return cell.row_id;
        },
        /* selectRow for the one of several lists (a page's group lists) whose cell changed. */
        selectRowIn: function () {
            const view = arguments[arguments.length - 1];
            const ctx = window.dash_clientside.callback_context;
            const changed = ((ctx && ctx.triggered) || [])[0];
            return window.dash_clientside.svrp.selectRow(changed ? changed.value : null, view);
        },
        /* Hover details as plain text for a Dash component (React renders strings as text). */
        hoverText: function (hover, view) {
            if (!hover || !hover.properties) { return window.dash_clientside.no_update; }
            const p = hover.properties;
            const h = window.svrp.current(view);
            const band = window.svrp.bandOf(h, p);
            const label = window.svrp.classText(h, p, band);
            const detail = (h.detail || {})[p.lsoa21_code];
            return p.lsoa21_name + " (" + p.lsoa21_code + ") · MSOA: " + p.msoa21_hcl_name +
                " · " + p.lad24_name + " · " + (h.layer_label || "Risk") + ": " + label +
                (typeof detail === "string" ? " · " + detail : "");
        }
    }
});

