/* Load between require.js and the widget manager (embed-amd.js), on pages with widgets.
 *
 * embed-amd.js defines its AMD modules by name and loads its icon fonts from the folder of each
 * module's URL, which require.js derives from the module name relative to the page: on
 * notebooks/x.html the fonts would be requested from notebooks/@jupyter-widgets/..., which does not
 * exist. Mapping every module it defines to the folder embed-amd.js is served from makes the fonts load
 * from the site on a page at any depth. The mapped file names are never fetched: the modules are
 * already defined inside embed-amd.js.
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
})();
