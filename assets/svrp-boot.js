/* In <head> of every page, ahead of Dash's bundles (app.py; in assets_ignore so Dash does not add
 * it again). Its data-worker attribute is the URL of assets/lsoa-worker.js; on a map page
 * data-geometry is the URL of the scope's geometry, and the worker starts fetching and
 * projecting it at once, while the browser is still running Dash's bundles (or, with
 * data-on-page, the page does it at once: a small scope). svrp-canvas.js picks the result up
 * with svrpBoot.start(url); boot.via[url] says which did it ("worker" or "page"), for tests. */
(function () {
    "use strict";
    /* No response to the worker's request by then: it is stuck (a sign-in challenge only the
     * page can answer, say), and the page fetches the geometry itself. */
    const WATCHDOG_MS = 15000;
    const me = document.currentScript;
    const boot = window.svrpBoot = {worker: me && me.dataset.worker, jobs: {}, timings: {}, via: {}};

    /* The worker's result for a geometry URL, once per URL: a Promise of its message. The
     * page's own geometry, where the server says it is small (data-on-page: a county, with a
     * first paint), is parsed here instead, by the worker's code loaded as a script in <head>. */
    boot.start = function (url) {
        if (boot.jobs[url]) { return boot.jobs[url]; }
        if (url === page && me.dataset.onPage && window.svrpLoadGeometry) {
            boot.via[url] = "page";
            boot.jobs[url] = window.svrpLoadGeometry(url).then(function (data) {
                boot.ready = performance.now();
                return data;
            }, function (err) { return {url: url, error: String(err), onPage: true}; });
            return boot.jobs[url];
        }
        boot.via[url] = "worker";
        boot.jobs[url] = new Promise(function (resolve) {
            let w = null;
            try { w = new Worker(boot.worker); } catch (err) { resolve({url: url, error: String(err)}); return; }
            let watch = null;
            const done = function (data) { clearTimeout(watch); w.terminate(); resolve(data); };
            watch = setTimeout(function () {
                done({url: url, error: "no response to the web worker's request in " + WATCHDOG_MS / 1000 + " s"});
            }, WATCHDOG_MS);
            w.onmessage = function (e) {
                if (e.data && e.data.phase === "response") { clearTimeout(watch); return; }
                boot.ready = performance.now();
                done(e.data);
            };
            w.onerror = function (e) {  /* e.g. a policy refusing workers */
                e.preventDefault();
                done({url: url, error: String(e.message || "the web worker failed")});
            };
            w.postMessage({url: url});
        });
        return boot.jobs[url];
    };

    const url = me && me.dataset.geometry;
    const page = url;
    if (url && ((boot.worker && window.Worker) || window.svrpLoadGeometry)) {
        boot.start(url);
    }
    /* svrp-paint.js: the first paint, then Dash (or Dash at once where there is none) */
    if (window.svrp && window.svrp.firstPaint) { window.svrp.firstPaint(); }
}());
