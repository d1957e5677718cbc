#!/usr/bin/env bash
# Refresh the JavaScript libraries the book serves itself (no CDN at read time) from the npm registry.
#
#   scripts/refresh_book_assets.sh            # the pinned versions below
#
# To move to another version, change the pin, run this, rebuild the book, run the browser test
# (pytest -m slow tests/book/test_book_browser.py) and update spm_training/sphinxext/static/ASSETS.md.
# Only the files a browser loads are kept; SHA256SUMS lets tests notice hand edits.
set -euo pipefail

# The widget manager must render the widget state written by the installed ipywidgets: ipywidgets
# 8.1.x (jupyterlab_widgets 3.0.x) pairs with @jupyter-widgets/html-manager 1.0.x (controls 2.0.0).
HTML_MANAGER_VERSION=1.0.15
REQUIREJS_VERSION=2.3.8
MATHJAX_VERSION=3.2.2

root=$(cd "$(dirname "$0")/.." && pwd)
vendor=$root/spm_training/sphinxext/static/spm/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v npm >/dev/null || { echo "npm is needed (apt-get install npm)" >&2; exit 1; }

# npm pack checks each tarball against the registry's integrity hash before writing it.
unpack() {  # unpack <package@version> <folder>
  local tarball
  tarball=$(cd "$work" && npm pack --silent "$1" | tail -1)
  mkdir -p "$work/$2"
  tar -xzf "$work/$tarball" -C "$work/$2" --strip-components=1
}
unpack "@jupyter-widgets/html-manager@$HTML_MANAGER_VERSION" html-manager
unpack "requirejs@$REQUIREJS_VERSION" requirejs
unpack "mathjax@$MATHJAX_VERSION" mathjax

rm -rf "$vendor"
mkdir -p "$vendor/html-manager" "$vendor/requirejs" "$vendor/mathjax"

# require.js: the AMD loader the widget manager's embed-amd.js is written for.
cp "$work/requirejs/require.js" "$vendor/requirejs/"

# html-manager: embed-amd.js bundles the base, controls and output widgets and their CSS; it loads
# Font Awesome from files next to itself. Browsers that run it all read WOFF2 or WOFF, so the EOT,
# TTF and SVG copies (for old browsers) are left out.
cp "$work/html-manager/dist/embed-amd.js" "$vendor/html-manager/"
cp "$work/html-manager/dist/"*.woff2 "$work/html-manager/dist/"*.woff "$vendor/html-manager/"
cp "$work/html-manager/dist/embed.js.LICENSE.txt" "$vendor/html-manager/THIRD-PARTY-LICENSES.txt"

# MathJax 3: the TeX-to-HTML component, its WOFF fonts, and the TeX extensions it autoloads on demand.
es5=$work/mathjax/es5
cp "$es5/tex-chtml.js" "$vendor/mathjax/"
mkdir -p "$vendor/mathjax/output/chtml/fonts" "$vendor/mathjax/input/tex"
cp -r "$es5/output/chtml/fonts/woff-v2" "$vendor/mathjax/output/chtml/fonts/"
cp -r "$es5/input/tex/extensions" "$vendor/mathjax/input/tex/"
cp "$work/mathjax/LICENSE" "$vendor/mathjax/LICENSE"

# Source maps are not shipped; drop the comments that point at them so browser tools do not 404.
find "$vendor" -name '*.js' -exec sed -i -E 's@^//# sourceMappingURL=[^ ]*$@@' {} +

(cd "$vendor" && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
du -sh "$vendor"/*
echo "vendored: html-manager $HTML_MANAGER_VERSION, requirejs $REQUIREJS_VERSION, mathjax $MATHJAX_VERSION"
