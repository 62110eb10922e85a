/* Loaded first on every page, in <head> before Dash's bundles (app.py; in assets_ignore so Dash
 * does not add it again): what the svrp namespace shares (views, shapes, marks), the style of one
 * LSOA in a view (lsoaStyle), the drawing of a scope's LSOAs on a canvas (svrp.paint: one
 * drawing for the map's canvas layer, assets/svrp-canvas.js, and the first paint) and the first
 * paint itself (svrp.firstPaint).
 *
 * First paint: the server puts a map page's first view and bounds in a JSON block
 * (#svrp-first) and a static copy of the page (#svrp-shell, hidden, inert, made from the page's
 * own layout by dashboard/shell.py) in its index. As soon as the web worker has the geometry
 * (assets/svrp-boot.js) and the page's CSS applies, the copy is shown over the page and its
 * map's LSOAs painted with Leaflet's fitBounds arithmetic, while Dash is still starting; the
 * canvas layer removes the copy when the real map draws (svrp.firstPaint.done), in the same
 * place. Marks: "painted" (the copy's LSOAs on screen), then "drawn" (the live map). */
window.svrp = Object.assign(window.svrp || {}, {
    /* Latest view per map key ({band_string, palette, labels, style, changed, selected, ...}) and
     * the shape of each LSOA, so a recolour restyles shapes in place instead of rebuilding them. */
    state: {},
    registry: {},
    /* Timings per map key for benchmarks and tests (performance.now() values): "drawn" is the
     * first animation frame after the shapes were added, "restyled" the first frame after the
     * last in-place recolour; "features" counts shapes registered. */
    marks: {},

    mark: function (key, name, extra) {
        const m = window.svrp.marks[key] = window.svrp.marks[key] || {};
        window.requestAnimationFrame(function () {
            m[name] = performance.now();
            Object.assign(m, extra || {});
        });
    },

    /* Class index of a feature in a view (one character per LSOA, indexed by the feature's
     * "i" property): undefined when it has none. */
    bandOf: function (h, props) {
        if (h.band_string === undefined || props.i === undefined) { return undefined; }
        const c = h.band_string.charCodeAt(props.i) - 48;
        return c >= 0 && c <= 9 ? c : undefined;
    },

    /* Outlines are dropped below this zoom on maps that ask for it (thousands of shapes). */
    zoom: {},

    current: function (hideout) {
        const h = hideout || {};
        const s = h.key && window.svrp.state[h.key];
        /* A view left from another area (same key, other scope) does not apply to this map. */
        return (s && (h.scope === undefined || s.scope === h.scope)) ? s : h;
    },

    /* The view's focused sub-area as a Set of LSOA codes (made once per view). */
    insideSet: function (h) {
        if (!h._insideSet) { h._insideSet = new Set(h.inside || []); }
        return h._insideSet;
    },

    /* The style of one LSOA in the current view of its map: fill from the view's palette, the
     * view's line colours (style), outlines per class, and the per-LSOA cues. */
    lsoaStyle: function (feature, context) {
        const h = window.svrp.current(context && context.hideout);
        const c = h.style || {};
        const code = feature.properties.lsoa21_code;
        const band = window.svrp.bandOf(h, feature.properties);
        const palette = h.palette || [];
        const known = band !== undefined && band !== null && palette[band] !== undefined;
        const style = {
            fillColor: known ? palette[band] : c.no_data,
            fillOpacity: 0.78, color: c.line, weight: 0.6, opacity: 0.9, dashArray: null
        };
        /* Strong classes (High and Very High) also get a heavier outline, so the map does not
         * rely on colour. */
        if (known && (h.strong || []).indexOf(band) >= 0) {
            style.color = c.strong_line; style.weight = band === h.strongest ? 2.2 : 1.4;
        }
        /* Per-class outlines (e.g. change layer: solid for a band that rose, dashed for one
         * that fell), so the outline alone tells the classes apart. */
        const outline = known && h.outlines && h.outlines[band];
        if (outline) { style.color = outline.color; style.weight = outline.weight; style.dashArray = outline.dashArray; }
        if (h.emphasise && known && h.emphasise.indexOf(band) < 0) { style.fillOpacity = 0.18; }
        if (h.opacity && h.opacity[code] !== undefined) { style.fillOpacity = h.opacity[code]; }
        if (h.unsure && h.unsure.indexOf(code) >= 0) { style.dashArray = "2 3"; style.color = c.unsure; style.weight = 1.6; }
        /* A focused sub-area (district or ward): the LSOAs outside it fade. */
        if (h.inside && !window.svrp.insideSet(h).has(code)) {
            style.fillOpacity = 0.08; style.opacity = 0.3;
        }
        if (h.outline_min_zoom !== undefined && (window.svrp.zoom[h.key] || 0) < h.outline_min_zoom) {
            style.weight = 0; style.stroke = false;
        } else if (h.outline_min_zoom !== undefined) { style.stroke = true; }
        if ((h.changed || []).indexOf(code) >= 0) { style.color = c.changed; style.weight = 3; style.dashArray = "5 4"; }
        if (h.selected === code) {
            style.color = c.selected; style.weight = 4; style.dashArray = null; style.stroke = true;
            style.halo = c.selected_halo;
        } else { style.halo = null; }
        return style;
    }
});

(function () {
    "use strict";
    const svrp = window.svrp;
    const SHELL_ID = "svrp-shell";
    const FIRST_ID = "svrp-first";
    const MAP_CLASS = "svrp-shell-map";
    /* The copy goes when the live map draws, or after this long whatever happens (a page that
     * failed to start must not stay covered). */
    const SHELL_MAX_MS = 10000;
    const WAIT_CSS_MS = 5000;  /* the page's CSS not applied by then: no first paint */
    const HELD_ID = "svrp-dash";
    /* Dash starts by then even if the first paint has not happened (a slow geometry download):
     * the paint is a head start, never a wait. */
    const HOLD_MAX_MS = 1500;
    const ROOM_FRAMES = 30;  /* frames to wait for the copy's map box to have a size */

    svrp.paint = {
        /* One Path2D per LSOA from the worker's projected rings (svrp-boot.js, lsoa-worker.js),
         * made once per geometry and kept on it. */
        paths: function (d) {
            if (d.paths) { return d.paths; }
            const paths = new Array(d.n);
            const c = d.coords;
            for (let f = 0; f < d.n; f++) {
                const p = new Path2D();
                for (let r = d.parts[f]; r < d.parts[f + 1]; r++) {
                    const a = 2 * d.rings[r];
                    const b = 2 * d.rings[r + 1];
                    p.moveTo(c[a], c[a + 1]);
                    for (let v = a + 2; v < b; v += 2) { p.lineTo(c[v], c[v + 1]); }
                    p.closePath();
                }
                paths[f] = p;
            }
            d.paths = paths;
            return paths;
        },

        /* Draw the LSOAs whose box meets box (worker units) with styleOf(i) (Leaflet path
         * options), ctx already translated and scaled by k (screen pixels per worker unit).
         * Outlines after all fills, heavier ones last, so a selected or High LSOA's outline is
         * never hidden under a neighbour's fill or thin outline. */
        draw: function (ctx, d, styleOf, k, box) {
            const paths = svrp.paint.paths(d);
            const bb = d.bbox;
            const strokes = [];
            for (let i = 0; i < d.n; i++) {
                const j = 4 * i;
                if (bb[j] > box[2] || bb[j + 2] < box[0] || bb[j + 1] > box[3] || bb[j + 3] < box[1]) { continue; }
                const o = styleOf(i);
                if (o.fill !== false) {
                    ctx.globalAlpha = o.fillOpacity;
                    ctx.fillStyle = o.fillColor || o.color;
                    ctx.fill(paths[i], "evenodd");
                }
                if (o.stroke !== false && o.weight > 0) { strokes.push(i); }
            }
            strokes.sort(function (a, b) { return styleOf(a).weight - styleOf(b).weight || a - b; });
            ctx.lineJoin = "round";
            ctx.lineCap = "round";
            for (let s = 0; s < strokes.length; s++) {
                const o = styleOf(strokes[s]);
                if (o.halo) {  /* the selection's halo, under its outline */
                    ctx.globalAlpha = 1;
                    ctx.strokeStyle = o.halo;
                    ctx.lineWidth = (o.weight + 4) / k;
                    ctx.setLineDash([]);
                    ctx.stroke(paths[strokes[s]]);
                }
                ctx.globalAlpha = o.opacity;
                ctx.strokeStyle = o.color;
                ctx.lineWidth = o.weight / k;
                ctx.setLineDash(o.dashArray ? String(o.dashArray).split(/[ ,]+/).map(function (v) { return Number(v) / k; }) : []);
                ctx.stroke(paths[strokes[s]]);
            }
        },

        /* Each LSOA's properties (one object per feature) from the worker's columns. */
        props: function (d) {
            if (d.features) { return d.features; }
            const names = Object.keys(d.props);
            const out = new Array(d.n);
            for (let i = 0; i < d.n; i++) {
                const p = {};
                for (let k = 0; k < names.length; k++) { p[names[k]] = d.props[names[k]][i]; }
                out[i] = p;
            }
            d.features = out;
            return out;
        }
    };

    /* Leaflet 1.9's map.fitBounds(bounds) on a new map of w x h pixels (getBoundsZoom with
     * zoomSnap, no padding, then the pixel origin of the bounds' centre): {zoom, x, y}, the
     * origin in pixels at that zoom. */
    function project(lat, lng, zoom) {
        const scale = 256 * Math.pow(2, zoom);
        const s = Math.sin(Math.max(Math.min(85.0511287798, lat), -85.0511287798) * Math.PI / 180);
        return [scale * (0.5 + lng / 360), scale * (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI))];
    }
    function fit(bounds, w, h, snap) {
        const lat = [bounds[0][0], bounds[1][0]], lng = [bounds[0][1], bounds[1][1]];
        const south = Math.min(lat[0], lat[1]), north = Math.max(lat[0], lat[1]);
        const west = Math.min(lng[0], lng[1]), east = Math.max(lng[0], lng[1]);
        const nw = project(north, west, 0), se = project(south, east, 0);
        const scale = Math.min(w / Math.abs(se[0] - nw[0]), h / Math.abs(se[1] - nw[1]));
        let zoom = Math.log(scale) / Math.LN2;
        if (snap) {
            zoom = Math.round(zoom / (snap / 100)) * (snap / 100);
            zoom = Math.floor(zoom / snap) * snap;
        }
        zoom = Math.max(0, zoom);
        const sw = project(south, west, zoom), ne = project(north, east, zoom);
        return {zoom: zoom, x: Math.round((sw[0] + ne[0]) / 2 - w / 2), y: Math.round((sw[1] + ne[1]) / 2 - h / 2)};
    }

    function shell() { return document.getElementById(SHELL_ID); }

    /* Paint the copy's map: "painted", "gone" (no copy, or the live map is up) or "no room"
     * (its box has no size yet, as while a new window settles; the copy stays for a retry). */
    function paintShell(first, d) {
        const el = shell();
        const key = first.key;
        if (!el || (svrp.marks[key] || {}).drawn) { return "gone"; }
        el.hidden = false;
        const box = el.querySelector("." + MAP_CLASS);
        const w = box ? box.clientWidth : 0, h = box ? box.clientHeight : 0;
        if (!w || !h) { return "no room"; }
        const dpr = window.devicePixelRatio || 1;
        const canvas = document.createElement("canvas");
        canvas.width = Math.round(w * dpr);
        canvas.height = Math.round(h * dpr);
        box.appendChild(canvas);
        const view = fit(first.bounds, w, h, first.zoomSnap);
        const k = Math.pow(2, view.zoom - d.z);
        const ctx = canvas.getContext("2d");
        ctx.scale(dpr, dpr);
        ctx.translate(d.x0 * k - view.x, d.y0 * k - view.y);
        ctx.scale(k, k);
        svrp.zoom[key] = svrp.zoom[key] === undefined ? view.zoom : svrp.zoom[key];
        const props = svrp.paint.props(d);
        const context = {hideout: first.view};
        const styles = props.map(function (p) { return svrp.lsoaStyle({properties: p}, context); });
        svrp.paint.draw(ctx, d, function (i) { return styles[i]; }, k,
                        [view.x / k - d.x0, view.y / k - d.y0, (view.x + w) / k - d.x0, (view.y + h) / k - d.y0]);
        const r = box.getBoundingClientRect();
        svrp.mark(key, "painted", {painted_features: d.n, painted_zoom: view.zoom,
                                   painted_rect: [r.left, r.top, r.width, r.height]});
        setTimeout(function () { svrp.firstPaint.done(); }, SHELL_MAX_MS);
        return "painted";
    }

    /* fn now, or once the page is parsed (the held template is at the end of the body). */
    function whenParsed(fn) {
        if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", fn); }
        else { fn(); }
    }

    /* Fetch the held bundles and chunks (preloads, in the order listed): called once the
     * geometry is in, so that they do not compete with it for the connections and the server. */
    function fetchDash() {
        const held = document.getElementById(HELD_ID);
        if (svrp.dash.fetched || !held) { return; }
        svrp.dash.fetched = performance.now();
        held.content.querySelectorAll("script[src], link[rel=preload]").forEach(function (tag) {
            const link = document.createElement("link");
            link.rel = "preload";
            link.as = "script";
            link.href = tag.getAttribute(tag.tagName === "LINK" ? "href" : "src");
            document.head.appendChild(link);
        });
    }

    /* Dash's bundles, held by the server until the first paint (dashboard/shell.py
     * held_scripts: their tags in the inert <template id="svrp-dash">): inserted in order,
     * once, then the renderer's own inline script. Called when the copy has been painted and
     * that frame is on screen, when there is nothing to paint, or after HOLD_MAX_MS whatever
     * happens. */
    function startDash(why) {
        if (svrp.dash.started) { return; }
        if (document.readyState === "loading") { whenParsed(function () { startDash(why); }); return; }
        const held = document.getElementById(HELD_ID);
        const renderer = document.getElementById("_dash-renderer");
        if (!held || !renderer) { return; }  /* Dash's scripts were not held: they run as usual */
        fetchDash();  /* no-op once fetched; the preloads still start before the scripts */
        svrp.dash.started = performance.now();
        svrp.dash.why = why;
        const run = function () {
            const s = document.createElement("script");
            s.textContent = renderer.textContent;  /* the same text: the CSP hash still applies */
            document.body.appendChild(s);
        };
        const tags = held.content.querySelectorAll("script[src]");
        tags.forEach(function (tag, i) {
            const s = document.createElement("script");
            s.src = tag.getAttribute("src");
            s.async = false;  /* run in the order inserted, each as its own task */
            if (i === tags.length - 1) { s.onload = run; s.onerror = run; }
            document.body.appendChild(s);
        });
        if (!tags.length) { run(); }
    }
    svrp.dash = {fetched: 0, started: 0, why: ""};  /* when and why, for tests and benchmarks */

    /* Paint the page's first view (if it has one) once the geometry is in and the CSS applies:
     * called by svrp-boot.js once it can start the web worker. Dash starts after it. */
    svrp.firstPaint = function () {
        setTimeout(function () { startDash("timeout"); }, HOLD_MAX_MS);
        const el = document.getElementById(FIRST_ID);
        const boot = window.svrpBoot;
        let first = null;
        try { first = el && JSON.parse(el.textContent); } catch (err) { first = null; }
        if (!first || !boot || !boot.start) { startDash("no first view"); return; }
        const until = performance.now() + WAIT_CSS_MS;
        /* The copy goes up as soon as the page's CSS applies, so that its style and layout
         * overlap the geometry's download; its map is painted when the geometry is in. */
        const shown = new Promise(function (resolve) {
            const poll = function () {
                const s = shell();
                if (s && getComputedStyle(s).position === "fixed") { s.hidden = false; resolve(true); }
                else if (performance.now() < until) { window.requestAnimationFrame(poll); }
                else { resolve(false); }
            };
            poll();
        });
        const geometry = boot.start(first.view.geometry).then(function (d) {
            whenParsed(fetchDash);
            return d;
        }, function () { return null; });
        Promise.all([shown, geometry]).then(function (both) {
            const d = both[1];
            if (!both[0] || !d || d.error) {  /* nothing to paint: the copy goes, Dash starts */
                svrp.firstPaint.done();
                startDash(both[0] ? "no geometry" : "no styles");
                return;
            }
            let frames = ROOM_FRAMES;
            const attempt = function () {
                let got = "error";
                try { got = paintShell(first, d); } finally {
                    if (got === "no room" && frames-- > 0) {
                        window.requestAnimationFrame(attempt);
                    } else {
                        if (got === "no room") { svrp.firstPaint.done(); }
                        /* the next frame shows the paint; Dash's first task comes after it */
                        window.requestAnimationFrame(function () {
                            setTimeout(function () { startDash(got); }, 0);
                        });
                    }
                }
            };
            attempt();
        });
    };
    /* The live map has drawn (or the copy has been up long enough): the copy goes. */
    svrp.firstPaint.done = function () {
        const el = shell();
        if (el) { el.remove(); }
    };
}());
