/* The benchmark floor: the same geometry as the app, drawn by Leaflet alone (canvas renderer,
 * no Dash, no React), with the same kind of timing marks as assets/svrp.js.
 *
 * Query parameters (set by benchmarks/browser.py): geometry (URL of the GeoJSON, served gzipped),
 * bands (URL of a JSON array of band indices in feature order, null for none), key (marks key),
 * w and h (map size in pixels, the app's map size), stroke (0 drops outlines, as the app does at
 * national zoom).
 *
 * window.svrp.marks[key]: drawn = performance.now() at the first animation frame after the layer
 * was added (features = count); restyled = the same after bare.recolour() (restyles counts).
 * parsed and built (performance.now() when the JSON was parsed and the layers made) show where
 * the time goes. */
(function () {
    "use strict";
    const q = new URLSearchParams(window.location.search);
    const key = q.get("key") || "bare";
    const stroke = q.get("stroke") !== "0";
    const el = document.getElementById("map");
    if (q.get("w")) { el.style.width = q.get("w") + "px"; }
    if (q.get("h")) { el.style.height = q.get("h") + "px"; }
    const PALETTE = ["#2c7bb6", "#abd9e9", "#ffffbf", "#fdae61", "#d7191c"];

    window.svrp = {marks: {}};
    function mark(name, extra) {
        const m = window.svrp.marks[key] = window.svrp.marks[key] || {};
        window.requestAnimationFrame(function () {
            m[name] = performance.now();
            Object.assign(m, extra || {});
        });
    }

    let bands = [];
    function style(feature) {
        const b = bands[feature._bi];
        const known = b !== undefined && b !== null;
        return {
            fillColor: known ? PALETTE[b] : "#d9d9d9", fillOpacity: 0.78,
            stroke: stroke, color: known && b >= 3 ? "#3b0010" : "#5a5a5a",
            weight: stroke ? (known && b >= 3 ? 1.4 : 0.6) : 0, opacity: 0.9
        };
    }

    const map = L.map(el, {preferCanvas: true, zoomSnap: 0.25, zoomDelta: 0.5});
    let layer = null;

    window.bare = {
        /* Restyle every shape in place from a new band array, then mark "restyled". */
        recolour: function (next) {
            bands = next;
            let n = 0;
            layer.eachLayer(function (l) { l.setStyle(style(l.feature)); n += 1; });
            const m = window.svrp.marks[key] || {};
            mark("restyled", {restyles: (m.restyles || 0) + 1});
            return n;
        },
        alt: null,
        error: null
    };

    const bandsUrl = q.get("bands");
    Promise.all([
        fetch(q.get("geometry")).then(function (r) { return r.json(); }),
        bandsUrl ? fetch(bandsUrl).then(function (r) { return r.json(); }) : Promise.resolve([])
    ]).then(function (got) {
        const geo = got[0];
        bands = got[1];
        const m = window.svrp.marks[key] = window.svrp.marks[key] || {};
        m.parsed = performance.now();
        geo.features.forEach(function (f, i) { f._bi = i; });
        /* A different band for most shapes, so a recolour repaints nearly everything. */
        window.bare.alt = bands.map(function (b) { return b === null ? null : 4 - b; });
        layer = L.geoJSON(geo, {style: style});
        m.built = performance.now();
        map.fitBounds(layer.getBounds());
        layer.addTo(map);
        mark("drawn", {features: geo.features.length});
    }).catch(function (err) { window.bare.error = String(err); });
}());
