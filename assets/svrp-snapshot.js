/* "Map as PNG (slide)" (dashboard/slides.py: map_button): draws a map as a 1280x720 slide, with
 * the title, the page's legend, the period/data caption and the attribution, and saves it.
 * The LSOA canvas and the other canvases are copied as drawn; SVG layers (district outlines,
 * incidents) are serialised and drawn as images; district labels and the legend are redrawn as
 * text from the page's own DOM (colours as Python rendered them: no colour of its own here).
 * All text comes from the button's data-* attributes or the page, drawn with fillText. */
(function () {
    "use strict";
    const W = 1280, H = 720, TOP = 64, BOTTOM = 70, PAD = 16;

    function loadSvg(svg) {
        const copy = svg.cloneNode(true);
        const r = svg.getBoundingClientRect();
        copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
        copy.setAttribute("width", r.width);
        copy.setAttribute("height", r.height);
        const text = new XMLSerializer().serializeToString(copy);
        return new Promise(function (resolve) {
            const img = new Image();
            img.onload = function () { resolve({img: img, rect: r}); };
            img.onerror = function () { resolve(null); };
            img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
        });
    }

    function wrap(ctx, text, maxWidth) {
        const words = String(text || "").split(/\s+/);
        const lines = [];
        let line = "";
        words.forEach(function (w) {
            const test = line ? line + " " + w : w;
            if (ctx.measureText(test).width > maxWidth && line) { lines.push(line); line = w; }
            else { line = test; }
        });
        if (line) { lines.push(line); }
        return lines;
    }

    let S = {};  /* the slide's colours, from the button's data-style (dashboard/slides.py) */

    function drawLegend(ctx, legend, x, y) {
        if (!legend) { return; }
        const title = legend.querySelector(".svrp-legend-title");
        const items = Array.prototype.slice.call(legend.querySelectorAll("li"));
        const rowH = 20, width = 230, height = 30 + items.length * rowH + 8;
        ctx.fillStyle = S.legend_bg;
        ctx.strokeStyle = S.frame;
        ctx.fillRect(x, y - height, width, height);
        ctx.strokeRect(x, y - height, width, height);
        ctx.fillStyle = S.ink;
        ctx.font = "bold 15px system-ui, sans-serif";
        ctx.fillText(title ? title.textContent : "", x + 10, y - height + 20);
        ctx.font = "14px system-ui, sans-serif";
        items.forEach(function (li, i) {
            const sw = li.querySelector(".svrp-swatch");
            const yy = y - height + 30 + i * rowH;
            const css = sw ? getComputedStyle(sw) : null;
            ctx.fillStyle = css ? css.backgroundColor : S.frame;
            ctx.fillRect(x + 10, yy + 3, 16, 13);
            ctx.strokeStyle = css ? css.borderTopColor : S.muted;
            ctx.lineWidth = css ? Math.max(1, parseFloat(css.borderTopWidth) || 1) : 1;
            ctx.strokeRect(x + 10, yy + 3, 16, 13);
            ctx.lineWidth = 1;
            ctx.fillStyle = S.ink;
            const band = li.querySelector(".svrp-legend-band");
            const count = li.querySelector(".svrp-legend-count");
            ctx.textAlign = "left";
            ctx.fillText(band ? band.textContent : "", x + 34, yy + 15);
            if (count) { ctx.textAlign = "right"; ctx.fillText(count.textContent, x + width - 10, yy + 15); }
            ctx.textAlign = "left";
        });
    }

    function snapshot(button) {
        const d = button.dataset;
        S = JSON.parse(d.style || "{}");
        const container = document.getElementById(d.map);
        if (!container) { return Promise.resolve(null); }
        const box = container.getBoundingClientRect();
        const out = document.createElement("canvas");
        out.width = W; out.height = H;
        const ctx = out.getContext("2d");
        ctx.fillStyle = S.paper;
        ctx.fillRect(0, 0, W, H);
        const areaW = W - 2 * PAD, areaH = H - TOP - BOTTOM;
        const scale = Math.min(areaW / box.width, areaH / box.height);
        const ox = PAD + (areaW - box.width * scale) / 2, oy = TOP + (areaH - box.height * scale) / 2;
        function place(r) {
            return [ox + (r.left - box.left) * scale, oy + (r.top - box.top) * scale,
                    r.width * scale, r.height * scale];
        }
        ctx.save();
        ctx.beginPath();
        ctx.rect(ox, oy, box.width * scale, box.height * scale);
        ctx.clip();
        const panes = Array.prototype.slice.call(container.querySelectorAll(".leaflet-pane"))
            .filter(function (p) { return !p.classList.contains("leaflet-map-pane"); })
            .sort(function (a, b) {
                return (Number(getComputedStyle(a).zIndex) || 0) - (Number(getComputedStyle(b).zIndex) || 0);
            });
        const jobs = [];
        panes.forEach(function (pane) {
            pane.querySelectorAll(":scope > canvas, :scope > svg, :scope > img.leaflet-tile, .leaflet-tile-container > img")
                .forEach(function (el) { jobs.push(el); });
        });
        return Promise.all(jobs.map(function (el) {
            if (el.tagName.toLowerCase() === "svg") { return loadSvg(el); }
            return Promise.resolve({img: el, rect: el.getBoundingClientRect()});
        })).then(function (layers) {
            layers.forEach(function (l) {
                if (!l || !l.rect.width || !l.rect.height) { return; }
                try { ctx.drawImage.apply(ctx, [l.img].concat(place(l.rect))); } catch (e) { /* a tainted tile */ }
            });
            ctx.font = "bold 14px system-ui, sans-serif";
            ctx.textAlign = "center";
            container.querySelectorAll(".svrp-district-label").forEach(function (label) {
                const p = place(label.getBoundingClientRect());
                ctx.fillStyle = S.halo;
                const w = ctx.measureText(label.textContent).width + 10;
                ctx.fillRect(p[0] + p[2] / 2 - w / 2, p[1] + p[3] / 2 - 11, w, 20);
                ctx.fillStyle = S.ink;
                ctx.fillText(label.textContent, p[0] + p[2] / 2, p[1] + p[3] / 2 + 4);
            });
            ctx.textAlign = "left";
            ctx.restore();
            ctx.strokeStyle = S.frame;
            ctx.strokeRect(ox, oy, box.width * scale, box.height * scale);
            const wrapBox = container.closest(".svrp-map-wrap") || container.parentNode;
            drawLegend(ctx, wrapBox.querySelector(".svrp-legend"), ox + 10, oy + box.height * scale - 10);
            ctx.fillStyle = S.ink;
            ctx.font = "bold 28px system-ui, sans-serif";
            ctx.fillText(d.title || "", PAD, 40);
            ctx.font = "12px system-ui, sans-serif";
            ctx.fillStyle = S.muted;
            const lines = wrap(ctx, d.caption, W - 2 * PAD).concat(wrap(ctx, d.attribution, W - 2 * PAD));
            lines.slice(0, 4).forEach(function (line, i) { ctx.fillText(line, PAD, H - BOTTOM + 15 + i * 15); });
            return new Promise(function (resolve) { out.toBlob(resolve, "image/png"); });
        });
    }

    function save(blob, name) {
        if (!blob) { return; }
        const a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = name || "map.png";
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }

    document.addEventListener("click", function (e) {
        const button = e.target.closest && e.target.closest(".svrp-map-png");
        if (!button) { return; }
        snapshot(button).then(function (blob) { save(blob, button.dataset.filename); });
    });
    window.svrp = Object.assign(window.svrp || {}, {snapshot: snapshot});
})();
