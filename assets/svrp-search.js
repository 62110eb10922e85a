/* The place search box of every map page (dashboard/search.py), in the ARIA 1.2 combobox
 * pattern: typing sends <key>-search-query (the server answers with the listbox's options);
 * ArrowDown/ArrowUp move through the options (aria-activedescendant), Enter or a click picks
 * one (<key>-search-pick), Escape closes the list (or clears the box). No colour or label here:
 * the server renders the options as text.
 *
 * svrpSearch.apply (a clientside callback on <key>-search-found) fits the page's map to the
 * place with the canvas layer's map, and for an LSOA or a postcode selects its LSOA on the
 * canvas (svrp.canvas.select) and writes <key>-lsoas.clickData, as a click on the map does, so
 * the page opens its panel. */
(function () {
    "use strict";
    const timers = {};
    let picks = 0;

    function setProps(id, value) {
        const dc = window.dash_clientside;
        if (dc && dc.set_props) { dc.set_props(id, value); }
    }
    /* dcc.Input puts its className on a wrapper: the box is the search input of .svrp-search */
    function isBox(el) {
        return el && el.tagName === "INPUT" && el.type === "search" && !!(el.closest && el.closest(".svrp-search"));
    }
        function keyOf(input) { return input.id.replace(/-search$/, ""); }

    /* dcc.Input takes no ARIA props: the combobox roles are added here, once per box. */
    function prepare() {
        document.querySelectorAll(".svrp-search input[type=search]:not([role])").forEach(function (input) {
            const key = keyOf(input);
            input.setAttribute("role", "combobox");
            input.setAttribute("aria-autocomplete", "list");
            input.setAttribute("aria-expanded", "false");
            input.setAttribute("aria-controls", key + "-search-list");
            input.setAttribute("aria-describedby", key + "-search-status");
        });
    }
    function listOf(key) { return document.getElementById(key + "-search-list"); }
    function options(key) {
        const list = listOf(key);
        return list && !list.hidden ? Array.prototype.slice.call(list.querySelectorAll("[role=option]")) : [];
    }

    function setActive(input, key, index) {
        const opts = options(key);
        opts.forEach(function (o, i) {
            o.setAttribute("aria-selected", i === index ? "true" : "false");
            o.classList.toggle("svrp-search-active", i === index);
        });
        if (index >= 0 && opts[index]) {
            input.setAttribute("aria-activedescendant", opts[index].id);
            opts[index].scrollIntoView({block: "nearest"});
        } else {
            input.removeAttribute("aria-activedescendant");
        }
        input._svrpActive = index;
    }

    function close(input, key) {
        setActive(input, key, -1);
        input.setAttribute("aria-expanded", "false");
        setProps(key + "-search-list", {hidden: true});
    }

    function pick(input, key, option) {
        input.value = option.getAttribute("data-name");
        close(input, key);
        picks += 1;
        setProps(key + "-search-pick", {data: {key: option.getAttribute("data-value"), n: picks}});
    }

    /* The first focus sends a null query, so the server builds its place index before
     * the first letter is typed. */
    document.addEventListener("focusin", function (e) {
        const input = e.target;
        if (!isBox(input) || input._svrpWarmed) { return; }
        input._svrpWarmed = true;
        /* cleared by the answer (the first in a process builds the index: a few seconds) */
        setProps(keyOf(input) + "-search-status", {children: "Loading the places…"});
        setProps(keyOf(input) + "-search-query", {data: null});
    });

    document.addEventListener("input", function (e) {
        const input = e.target;
        if (!isBox(input)) { return; }
        const key = keyOf(input);
        clearTimeout(timers[key]);
        timers[key] = setTimeout(function () {
            input._svrpActive = -1;
            input.removeAttribute("aria-activedescendant");
            setProps(key + "-search-query", {data: input.value.slice(0, 100)});
        }, 120);
    });

    document.addEventListener("keydown", function (e) {
        const input = e.target;
        if (!isBox(input)) { return; }
        const key = keyOf(input);
        const opts = options(key);
        const at = input._svrpActive === undefined ? -1 : input._svrpActive;
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            if (!opts.length) { return; }
            e.preventDefault();
            const n = opts.length;
            setActive(input, key, e.key === "ArrowDown" ? (at + 1) % n : (at <= 0 ? n - 1 : at - 1));
        } else if (e.key === "Enter") {
            if (!opts.length) { return; }
            e.preventDefault();
            pick(input, key, opts[at >= 0 && at < opts.length ? at : 0]);
        } else if (e.key === "Escape") {
            if (opts.length) {
                e.preventDefault();
                close(input, key);
            } else if (input.value) {
                input.value = "";
            }
        }
    });

    /* mousedown, not click: the box keeps its focus, and the list is still there. */
    document.addEventListener("mousedown", function (e) {
        const target = e.target;
        const option = target && target.closest && target.closest(".svrp-search-option");
        if (option) {
            const box = option.closest(".svrp-search");
            const input = box && box.querySelector("input[type=search]");
            if (input) {
                e.preventDefault();
                pick(input, keyOf(input), option);
            }
            return;
        }
        /* a press anywhere else closes an open list */
        document.querySelectorAll(".svrp-search input[aria-expanded=true]").forEach(function (input) {
            if (!input.closest(".svrp-search").contains(target)) { close(input, keyOf(input)); }
        });
    });

    /* aria-expanded follows the listbox the server shows or hides; new boxes get their roles. */
    new MutationObserver(function (records) {
        prepare();
        records.forEach(function (r) {
            if (r.type !== "attributes") { return; }
            const list = r.target;
            if (!list.classList || !list.classList.contains("svrp-search-list")) { return; }
            const input = document.querySelector("[aria-controls='" + list.id + "']");
            if (input) {
                input.setAttribute("aria-expanded", list.hidden ? "false" : "true");
                if (list.hidden) { input.removeAttribute("aria-activedescendant"); input._svrpActive = -1; }
            }
        });
    }).observe(document.documentElement, {attributes: true, attributeFilter: ["hidden"], subtree: true,
                                                 childList: true});

    /* Fit the map to a found place (waiting for the canvas layer if the map is still loading). */
    function apply(found, tries) {
        const svrp = window.svrp || {};
        const key = found.map;
        const layer = svrp.canvas && svrp.canvas.layer(key);
        const map = layer && layer._map;
        if (!map || !(svrp.registry || {})[key]) {
            if ((tries || 0) < 100) { setTimeout(function () { apply(found, (tries || 0) + 1); }, 100); }
            return;
        }
        /* room at the top left for the search box */
        map.fitBounds(found.bounds, {paddingTopLeft: [40, 90], paddingBottomRight: [30, 30], maxZoom: 16});
        if (found.lsoa && svrp.canvas.select(key, found.lsoa)) {
            setProps(key + "-lsoas", {clickData: {type: "Feature", geometry: null,
                properties: Object.assign({}, svrp.registry[key][found.lsoa].feature.properties)}});
        }
        (svrp.marks[key] = svrp.marks[key] || {}).search = {key: found.key, at: performance.now()};
    }

    /* A postcode's point on the outline layer: a ring in the layer's hideout style. */
    window.svrpSearch = {
        point: function (feature, latlng, context) {
            return L.circleMarker(latlng, Object.assign({interactive: false}, (context && context.hideout) || {}));
        }
    };

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        svrpSearch: {
            /* An LSOA list's filter box -> its DataTable's filter_query: rows whose code,
             * MSOA, ward or district contains the text (any case). */
            listFilter: function (text) {
                const t = String(text || "").replace(/["\\{}]/g, " ").trim().slice(0, 60);
                if (!t) { return ""; }
                return ["lsoa21_code", "msoa", "ward", "district"].map(function (c) {
                    return "{" + c + "} icontains \"" + t + "\"";
                }).join(" or ");
            },
            apply: function (found) {
                if (!found || !found.inside || !found.bounds) { return window.dash_clientside.no_update; }
                apply(found, 0);
                return found.n;
            }
        }
    });
}());
