/* First script of every page (app.py puts it in <head>, ahead of Dash's bundles; it is in
 * assets_ignore so Dash does not add it again). Its data-worker attribute is the URL of
 * assets/lsoa-worker.js; on the explore page data-geometry is the URL of the scope's geometry,
 * and the worker starts fetching and projecting it at once, while the browser is still
 * running Dash's bundles. svrp-canvas.js picks the result up from window.svrpBoot. */
(function () {
    "use strict";
    const me = document.currentScript;
    const boot = window.svrpBoot = {worker: me && me.dataset.worker, jobs: {}};
    const url = me && me.dataset.geometry;
    if (!url || !boot.worker || !window.Worker) { return; }
    boot.jobs[url] = new Promise(function (resolve) {
        const w = new Worker(boot.worker);
        w.onmessage = function (e) { boot.ready = performance.now(); resolve(e.data); w.terminate(); };
        w.onerror = function (e) { resolve({url: url, error: String(e.message || e)}); w.terminate(); };
        w.postMessage({url: url});
    });
}());
