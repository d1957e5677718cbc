/* Load between require.js and the widget manager (embed-amd.js), on pages with widgets.
 *
 * embed-amd.js defines its AMD modules by name and loads its icon fonts from the folder of each
 * module's URL, which require.js derives from the module name relative to the page: on
 * notebooks/x.html the fonts would be requested from notebooks/@jupyter-widgets/..., which does not
 * exist. Mapping every module it defines to the folder embed-amd.js is served from makes the fonts load
 * from the site on a page at any depth. The mapped file names are never fetched: the modules are
 * already defined inside embed-amd.js. It also takes the widget CDN away (see the end).
 */
(function () {
  "use strict";
  if (!window.requirejs || !document.currentScript) {
    return;
  }
  var folder = new URL("vendor/html-manager/", document.currentScript.src).href;
  var modules = ["base", "controls", "base7", "controls7", "html-manager", "html-manager/dist/libembed-amd"];
  var paths = {};
  modules.forEach(function (name) {
    paths["@jupyter-widgets/" + name] = folder + name.replace(/\//g, "-");
  });
  window.requirejs.config({ paths: paths });
  // A widget whose module embed-amd.js does not bundle would be fetched from its CDN
  // (cdn.jsdelivr.net); embed-amd.js takes the CDN from any script tag's data-jupyter-widgets-cdn.
  // Pointing it at an empty folder of the site makes such a widget fail on the site, never reach out.
  document.currentScript.setAttribute("data-jupyter-widgets-cdn", new URL("vendor/no-widget-cdn/", document.currentScript.src).href);
})();
