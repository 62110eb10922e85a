/* Web worker for the explore page's LSOA layer (assets/svrp-canvas.js): fetches a scope's
 * geometry, parses it and projects every vertex off the main thread, so that Dash's start-up
 * and the geometry work use both cores instead of queueing on one.
 *
 * Not included in the page (app.py lists it in assets_ignore): started by assets/svrp-boot.js
 * for the page's scope or an area opened later. One message in: {url}. Out: {url, phase:
 * "response", status} when the response starts, then {url, n, z, x0, y0, coords, rings, parts,
 * bbox, props, timing} or {url, error}. Loaded as a plain
 * script instead (where a worker cannot start), it defines window.svrpLoadGeometry(url).
 *
 * Projection: Leaflet's EPSG:3857 (spherical Mercator, its latitude clamp), as pixels at
 * zoom Z (256 * 2^Z pixels round the world), less the area's top-left corner (x0, y0), kept as
 * Float32 (sub-millimetre at street zoom for an area the size of England).
 * coords: x, y per vertex; rings: first vertex of each ring (+ one end entry); parts: first
 * ring of each feature (+ one end entry); bbox: minX, minY, maxX, maxY per feature;
 * props: one array per property name, in feature order. */
(function () {
    "use strict";

    const Z = 12;
    const SCALE = 256 * Math.pow(2, Z);
    const MAX_LAT = 85.0511287798;
    const D = Math.PI / 180;

    function px(lon) { return SCALE * (0.5 + lon / 360); }
    function py(lat) {
        const s = Math.sin(Math.max(Math.min(MAX_LAT, lat), -MAX_LAT) * D);
        return SCALE * (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI));
    }

    function polygonsOf(geometry) {
        if (!geometry) { return []; }
        if (geometry.type === "Polygon") { return [geometry.coordinates]; }
        if (geometry.type === "MultiPolygon") { return geometry.coordinates; }
        return [];
    }

    function build(url, geo) {
        const features = geo.features || [];
        const n = features.length;
        let nv = 0;
        let nr = 0;
        let minLon = Infinity;
        let maxLat = -Infinity;
        for (let f = 0; f < n; f++) {
            const polys = polygonsOf(features[f].geometry);
            for (let p = 0; p < polys.length; p++) {
                for (let r = 0; r < polys[p].length; r++) {
                    const ring = polys[p][r];
                    nr += 1;
                    nv += ring.length;
                    for (let v = 0; v < ring.length; v++) {
                        if (ring[v][0] < minLon) { minLon = ring[v][0]; }
                        if (ring[v][1] > maxLat) { maxLat = ring[v][1]; }
                    }
                }
            }
        }
        const x0 = n ? Math.floor(px(minLon)) : 0;
        const y0 = n ? Math.floor(py(maxLat)) : 0;
        const coords = new Float32Array(2 * nv);
        const rings = new Uint32Array(nr + 1);
        const parts = new Uint32Array(n + 1);
        const bbox = new Float32Array(4 * n);
        const names = {};
        let vi = 0;
        let ri = 0;
        for (let f = 0; f < n; f++) {
            const props = features[f].properties || {};
            Object.keys(props).forEach(function (k) {
                (names[k] = names[k] || new Array(n).fill(null))[f] = props[k];
            });
            parts[f] = ri;
            let bx0 = Infinity, by0 = Infinity, bx1 = -Infinity, by1 = -Infinity;
            const polys = polygonsOf(features[f].geometry);
            for (let p = 0; p < polys.length; p++) {
                for (let r = 0; r < polys[p].length; r++) {
                    const ring = polys[p][r];
                    rings[ri++] = vi / 2;
                    for (let v = 0; v < ring.length; v++) {
                        const x = px(ring[v][0]) - x0;
                        const y = py(ring[v][1]) - y0;
                        coords[vi++] = x;
                        coords[vi++] = y;
                        if (x < bx0) { bx0 = x; }
                        if (x > bx1) { bx1 = x; }
                        if (y < by0) { by0 = y; }
                        if (y > by1) { by1 = y; }
                    }
                }
            }
            bbox.set([bx0, by0, bx1, by1], 4 * f);
        }
        parts[n] = ri;
        rings[nr] = vi / 2;
        return {url: url, n: n, z: Z, x0: x0, y0: y0, coords: coords, rings: rings, parts: parts,
                bbox: bbox, props: names};
    }

    function load(url, onResponse) {
        return fetch(url, {credentials: "same-origin"})
            .then(function (r) {
                if (onResponse) { onResponse(r.status); }
                if (!r.ok) { throw new Error("HTTP " + r.status + " for " + url); }
                return r.json();
            })
            .then(function (geo) {
                const out = build(url, geo);
                out.timing = timing(url);
                return out;
            });
    }

    /* The download as the browser timed it, in ms since the epoch (a worker's clock starts
     * when the worker does), for benchmarks: a worker's fetches are not in the page's list. */
    function timing(url) {
        const perf = self.performance;
        let e = null;
        try { e = perf.getEntriesByName(new URL(url, self.location.href).href).pop(); } catch (err) { e = null; }
        if (!e) { return null; }
        return {start: perf.timeOrigin + e.startTime, end: perf.timeOrigin + e.responseEnd,
                transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize};
    }

    if (typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
        self.onmessage = function (event) {
            const url = event.data && event.data.url;
            const onResponse = function (status) { self.postMessage({url: url, phase: "response", status: status}); };
            load(url, onResponse).then(function (out) {
                self.postMessage(out, [out.coords.buffer, out.rings.buffer, out.parts.buffer,
                                       out.bbox.buffer]);
            }).catch(function (err) { self.postMessage({url: url, error: String(err)}); });
        };
    } else {
        /* Loaded as a page script (a browser that refused the worker): the same work, here. */
        window.svrpLoadGeometry = load;
    }
}());
