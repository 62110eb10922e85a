/* Every map page's LSOA layer (the county overview, district pages, /explore): every LSOA of the
 * scope on one Leaflet canvas, from
 * geometry that assets/lsoa-worker.js fetched, parsed and projected on the other core.
 *
 * Leaflet's own canvas renderer makes an L.Polygon per LSOA with an L.LatLng per vertex and
 * re-projects them all on every zoom: at England scale that is ~0.8 s of main-thread work and
 * garbage collection before the first frame. This layer (an L.Canvas, so Leaflet still sizes,
 * moves and zoom-animates the canvas) keeps the worker's Float32 coordinates, builds one Path2D
 * per LSOA once, and draws them with a transform for the current zoom.
 *
 * What the rest of svrp.js expects of a shape is kept: svrp.registry[key][code] is a light
 * object with feature, options (the Leaflet path options of its last style), setStyle(),
 * getBounds() and _map, so svrp.restyle and the zoom watcher work as for dash-leaflet layers.
 * Hover opens one tooltip (built with textContent only) and writes <key>-lsoas.hoverData; a
 * click writes <key>-lsoas.clickData, as dash-leaflet's GeoJSON does.
 *
 * The layer is attached when three things are there: the Leaflet map (id "<key>-map"), the
 * view (<key>-view, whose "geometry" is the scope's geometry URL) and the geometry. */
(function () {
    "use strict";
    if (!window.L || !L.Canvas) { return; }
    const svrp = window.svrp = window.svrp || {};
    const maps = {};        /* map container id -> L.Map (the latest with that id) */
    const active = {};      /* key -> the CanvasLsoas layer of the current view */
    const stale = {};       /* key -> a view left from a page that has gone (never drawn) */
    const DEFAULTS = {stroke: true, color: null, weight: 3, opacity: 1, fill: true,
                      fillColor: null, fillOpacity: 0.2, dashArray: null};
    /* The canvas sits in a pane of its own below Leaflet's overlay pane (400), so district
     * outlines and police.uk incident layers are drawn above the areas. */
    const PANE = "svrpLsoas";
    const PANE_Z = 350;

    /* The projected geometry of a URL (a Promise): the web worker's (svrp-boot.js), or the
     * page's own where there is no worker. A worker's request can fail where the page's own
     * succeeds (sign-in a proxy or a test adds to the page's requests only, a stuck request):
     * then the page tries once itself. */
    const jobs = {};
    function geometry(url) {
        if (!jobs[url]) {
            const boot = window.svrpBoot;
            const first = boot && boot.start && boot.worker && window.Worker ? boot.start(url) : onPage(url);
            jobs[url] = first.then(function (data) {
                return data && data.error && !data.onPage ? onPage(url) : data;
            }).then(function (data) {
                if (data && data.error) {  /* not kept: the next page for this area tries again */
                    delete jobs[url];
                    if (window.svrpBoot && window.svrpBoot.jobs) { delete window.svrpBoot.jobs[url]; }
                }
                return data;
            });
        }
        return jobs[url];
    }

    /* The worker's work on the page itself: loads lsoa-worker.js as a plain script. */
    function onPage(url) {
        if (window.svrpBoot && window.svrpBoot.via) { window.svrpBoot.via[url] = "page"; }
        const run = function () {
            return window.svrpLoadGeometry(url).catch(function (err) {
                return {url: url, error: String(err), onPage: true};
            });
        };
        if (window.svrpLoadGeometry) { return run(); }
        return new Promise(function (resolve) {
            const s = document.createElement("script");
            s.src = (window.svrpBoot || {}).worker || "/assets/lsoa-worker.js";
            s.onload = function () { resolve(run()); };
            s.onerror = function () { resolve({url: url, error: "could not load " + s.src, onPage: true}); };
            document.head.appendChild(s);
        });
    }

    function Shape(layer, i, props) {
        this._layer = layer;
        this._i = i;
        this._map = null;
        this.feature = {type: "Feature", properties: props, geometry: null};
        this.options = Object.assign({}, DEFAULTS);
    }
    Shape.prototype.setStyle = function (style) {
        Object.assign(this.options, style);
        this._layer._changed();
        return this;
    };
    Shape.prototype.getBounds = function () { return this._layer._boundsOf(this._i); };
    Shape.prototype.getCenter = function () { return this.getBounds().getCenter(); };

    const CanvasLsoas = L.Canvas.extend({
        options: {padding: 0.1, key: null, url: null, pane: PANE},

        initialize: function (options) {
            L.Canvas.prototype.initialize.call(this, options);
            this._data = null;
            this._shapes = [];
            this._grid = null;
            this._hovered = -1;
            this._tooltip = null;
        },

        /* Geometry from the worker: make the shapes, style them from the view and register
         * them; the first draw follows when the layer is on the map. */
        setData: function (data) {
            const key = this.options.key;
            const marks = svrp.marks[key] = svrp.marks[key] || {};
            marks.built_from = performance.now();
            this._data = data;
            const props = svrp.paint.props(data);
            const shapes = new Array(data.n);
            const registry = {};
            const context = {hideout: {key: key, scope: (svrp.state[key] || {}).scope}};
            this._context = context;
            for (let i = 0; i < data.n; i++) {
                const s = shapes[i] = new Shape(this, i, Object.assign({}, props[i]));
                Object.assign(s.options, svrp.lsoaStyle(s.feature, context));
                registry[props[i].lsoa21_code] = s;
            }
            this._shapes = shapes;
            svrp.registry[key] = registry;
            return this;
        },

        onAdd: function (map) {
            L.Canvas.prototype.onAdd.call(this, map);
            this._shapes.forEach(function (s) { s._map = map; });
            this._tooltip = L.tooltip({direction: "top", offset: [0, -6], className: "svrp-canvas-tip"});
            const key = this.options.key;
            const n = this._shapes.length;
            svrp.mark(key, "drawn", {features: n});
            if (svrp.firstPaint) { svrp.firstPaint.done(); }  /* the page's static copy goes */
            if (svrp.notifyDrawn) { svrp.notifyDrawn(key, n); }
            if (n && svrp.watchZoom) { svrp.watchZoom(key, this._shapes[0]); }
        },

        onRemove: function (map) {
            if (this._tooltip) { map.closeTooltip(this._tooltip); }
            L.Canvas.prototype.onRemove.call(this, map);
        },

        /* Remember the transform of this update (not while Leaflet animates a zoom: the canvas
         * is then only scaled by CSS, as Leaflet's renderer does). */
        _update: function () {
            if (this._map._animatingZoom && this._bounds) { return; }
            this._origin = this._map.getPixelOrigin();
            this._k = this._map.getZoomScale(this._map.getZoom(), this._data ? this._data.z : 12);
            L.Canvas.prototype._update.call(this);
        },

        /* Leaflet's canvas layers are kept in a linked list; here the shapes are ours. */
        _updatePaths: function () { this._redraw(); },

        _changed: function () {
            if (!this._map || this._redrawRequest) { return; }
            this._redrawRequest = L.Util.requestAnimFrame(this._redraw, this);
        },

        /* The view in the worker's units (pixels at zoom z, less the area's corner). */
        _viewBox: function () {
            const d = this._data;
            const k = this._k;
            const b = this._bounds;
            return [(b.min.x + this._origin.x) / k - d.x0, (b.min.y + this._origin.y) / k - d.y0,
                    (b.max.x + this._origin.x) / k - d.x0, (b.max.y + this._origin.y) / k - d.y0];
        },

        _draw: function () {
            const d = this._data;
            if (!d || !this._map || !this._bounds) { return; }
            const ctx = this._ctx;
            const k = this._k;
            const shapes = this._shapes;
            ctx.save();
            ctx.translate(d.x0 * k - this._origin.x, d.y0 * k - this._origin.y);
            ctx.scale(k, k);
            svrp.paint.draw(ctx, d, function (i) { return shapes[i].options; }, k, this._viewBox());
            ctx.restore();
        },

        /* Uniform grid over the area: for each cell, the shapes whose box meets it. */
        _index: function () {
            const d = this._data;
            const bb = d.bbox;
            let w = 1, h = 1;
            for (let i = 0; i < d.n; i++) { w = Math.max(w, bb[4 * i + 2]); h = Math.max(h, bb[4 * i + 3]); }
            const g = Math.max(1, Math.ceil(Math.sqrt(d.n)));
            const cw = w / g, ch = h / g;
            const cell = function (x, y) {
                return [Math.min(g - 1, Math.max(0, Math.floor(x / cw))), Math.min(g - 1, Math.max(0, Math.floor(y / ch)))];
            };
            const lists = new Array(g * g);
            for (let i = 0; i < d.n; i++) {
                const a = cell(bb[4 * i], bb[4 * i + 1]);
                const b = cell(bb[4 * i + 2], bb[4 * i + 3]);
                for (let y = a[1]; y <= b[1]; y++) {
                    for (let x = a[0]; x <= b[0]; x++) { (lists[y * g + x] = lists[y * g + x] || []).push(i); }
                }
            }
            this._grid = {g: g, cell: cell, lists: lists};
        },

        _contains: function (i, x, y) {
            const d = this._data;
            const c = d.coords;
            let inside = false;
            for (let r = d.parts[i]; r < d.parts[i + 1]; r++) {
                const a = 2 * d.rings[r];
                const b = 2 * d.rings[r + 1];
                for (let v = a, u = b - 2; v < b; u = v, v += 2) {
                    if ((c[v + 1] > y) !== (c[u + 1] > y) &&
                        x < (c[u] - c[v]) * (y - c[v + 1]) / (c[u + 1] - c[v + 1]) + c[v]) {
                        inside = !inside;
                    }
                }
            }
            return inside;
        },

        /* The shape under a mouse event (the last drawn, as on screen), or -1. */
        _hit: function (e) {
            const d = this._data;
            if (!d || !this._map) { return -1; }
            if (!this._grid) { this._index(); }
            const p = this._map.mouseEventToLayerPoint(e);
            const x = (p.x + this._origin.x) / this._k - d.x0;
            const y = (p.y + this._origin.y) / this._k - d.y0;
            const at = this._grid.cell(x, y);
            const list = this._grid.lists[at[1] * this._grid.g + at[0]] || [];
            const bb = d.bbox;
            for (let n = list.length - 1; n >= 0; n--) {
                const i = list[n];
                const j = 4 * i;
                if (x >= bb[j] && x <= bb[j + 2] && y >= bb[j + 1] && y <= bb[j + 3] &&
                    this._shapes[i].options.interactive !== false && this._contains(i, x, y)) {
                    return i;
                }
            }
            return -1;
        },

        _boundsOf: function (i) {
            const d = this._data;
            const bb = d.bbox;
            const map = this._map;
            const a = map.unproject(L.point(bb[4 * i] + d.x0, bb[4 * i + 3] + d.y0), d.z);
            const b = map.unproject(L.point(bb[4 * i + 2] + d.x0, bb[4 * i + 1] + d.y0), d.z);
            return L.latLngBounds(a, b);
        },

        _props: function (i) { return this._shapes[i].feature.properties; },

        _setProps: function (prop, i) {
            const dc = window.dash_clientside;
            if (!dc || !dc.set_props) { return; }
            const value = {};
            value[prop] = {type: "Feature", properties: Object.assign({}, this._props(i)), geometry: null};
            dc.set_props(this.options.key + "-lsoas", value);
        },

        _onMouseMove: function (e) {
            const map = this._map;
            if (!map || map.dragging.moving() || map._animatingZoom) { return; }
            const i = this._hit(e);
            if (i !== this._hovered) {
                this._hovered = i;
                L.DomUtil[i >= 0 ? "addClass" : "removeClass"](this._container, "leaflet-interactive");
                if (i < 0) {
                    map.closeTooltip(this._tooltip);
                } else {
                    this._tooltip.setContent(svrp.tooltipBox(this._props(i), this._context));
                    this._setProps("hoverData", i);
                }
            }
            if (i >= 0) {
                this._tooltip.setLatLng(map.mouseEventToLatLng(e));
                if (!map.hasLayer(this._tooltip)) { map.openTooltip(this._tooltip); }
            }
        },

        _handleMouseOut: function () {
            if (this._hovered >= 0 && this._map) {
                this._hovered = -1;
                L.DomUtil.removeClass(this._container, "leaflet-interactive");
                this._map.closeTooltip(this._tooltip);
            }
        },

        /* Clicks select the LSOA under the pointer; every mouse event still reaches the map
         * (double-click zoom, the map's own click). */
        _onClick: function (e) {
            const map = this._map;
            if (!map) { return; }
            if (e.type === "click" && !map._draggableMoved(map)) {
                const i = this._hit(e);
                if (i >= 0) {
                    select(this.options.key, this._props(i).lsoa21_code);
                    this._setProps("clickData", i);
                }
            }
            map._fireDOMEvent(e, e.type);
            /* Leaflet closes open tooltips on a map click (preclick): keep the hovered one. */
            if (this._hovered >= 0 && !map.hasLayer(this._tooltip)) { map.openTooltip(this._tooltip); }
        }
    });

    function attach(key) {
        const view = svrp.state[key];
        const map = maps[key + "-map"];
        if (!view || view === stale[key] || !view.geometry || !map || !map._loaded) { return; }
        const layer = active[key];
        if (layer && layer._want === map && layer.options.url === view.geometry) { return; }
        if (layer && layer._map) { layer._map.removeLayer(layer); }
        if (!map.getPane(PANE)) { map.createPane(PANE).style.zIndex = PANE_Z; }
        const next = active[key] = new CanvasLsoas({key: key, url: view.geometry});
        next._want = map;
        geometry(view.geometry).then(function (data) {
            const boot = window.svrpBoot = window.svrpBoot || {};
            if (data.timing) { (boot.timings = boot.timings || {})[view.geometry] = data.timing; }
            if (active[key] !== next || maps[key + "-map"] !== map) { return; }
            if (data.error) {
                (svrp.marks[key] = svrp.marks[key] || {}).error = data.error;
                const dc = window.dash_clientside;
                if (dc && dc.set_props) {
                    dc.set_props(key + "-alert", {hidden: false,
                        children: "The map's shapes could not be loaded (" + data.error + "). Reload the page to try again."});
                }
                return;
            }
            next.setData(data);
            map.addLayer(next);
        });
    }

    /* Outline one LSOA as selected (a click on the map or a row of the list): only it and the
     * one selected before are restyled. The view keeps it, so a recolour keeps it too. */
    function select(key, code) {
        const view = svrp.state[key];
        const registry = svrp.registry[key] || {};
        if (!view || (code && !registry[code])) { return false; }  /* null: none selected */
        const before = view.selected;
        view.selected = code;
        const context = {hideout: {key: key, scope: view.scope}};
        [before, code].forEach(function (c) {
            if (c && registry[c]) { registry[c].setStyle(svrp.lsoaStyle(registry[c].feature, context)); }
        });
        return true;
    }

    /* Every Leaflet map registers itself by its container's id, once it has a view. A view
     * already there when a second map of that id comes (or left when its map goes) belongs to
     * the page being left: the new page sends its own, and the old one is never drawn on it
     * (seen in Chromium: new map, old map unloaded, then the new view). */
    L.Map.addInitHook(function () {
        const id = this.getContainer().id;
        if (!id) { return; }
        const key = id.replace(/-map$/, "");
        if (maps[id] && maps[id] !== this) { stale[key] = svrp.state[key]; }
        const map = maps[id] = this;
        this.whenReady(function () { if (maps[id] === map) { attach(key); } });
        this.on("unload", function () {
            if (maps[id] === map) { delete maps[id]; }
            const layer = active[key];
            if (layer && layer._want === map) {
                delete active[key];
                stale[key] = svrp.state[key];
            }
        });
    });

    svrp.canvas = {
        /* Called by svrp.restyle with each new view (before it restyles the shapes): attaches
         * the layer on the first one, and keeps the selection of the view it replaces. */
        view: function (view, before) {
            if (!view || !view.geometry) { return; }
            if (!view.selected && before && before.selected && before.scope === view.scope &&
                before !== stale[view.key]) {
                view.selected = before.selected;
            }
            attach(view.key);
        },
        select: select,
        /* Bring an LSOA into view, zoomed in enough to see it (a selection from the list). */
        zoomTo: function (key, code) {
            const shape = (svrp.registry[key] || {})[code];
            const map = shape && shape._map;
            if (!map) { return false; }
            const b = shape.getBounds();
            const size = map.latLngToContainerPoint(b.getNorthEast()).distanceTo(
                map.latLngToContainerPoint(b.getSouthWest()));
            if (map.getBounds().pad(-0.1).contains(b) && size >= 40) { return false; }
            map.flyToBounds(b, {maxZoom: Math.max(map.getZoom(), 13), padding: [120, 120], duration: 0.5});
            return true;
        },
        geometry: geometry,
        layer: function (key) { return active[key] || null; }
    };
}());
