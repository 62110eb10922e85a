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

    window.addEventListener("beforeprint", function () {
        document.body.classList.add("svrp-printing");
        fit();
    });
    window.addEventListener("afterprint", function () {
        document.body.classList.remove("svrp-printing");
        fit();
    });
    window.svrpDistrict = {fit: fit};
})();
