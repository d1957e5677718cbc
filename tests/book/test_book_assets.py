"""The libraries the book serves itself: present, unmodified, the versions the config and ASSETS.md name,
and the widget manager matching the installed ipywidgets."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml

from spm_training.sphinxext import assets

ROOT = Path(__file__).resolve().parents[2]
STATIC = assets.STATIC_DIR
VENDOR = STATIC / "spm" / "vendor"
SCRIPT = ROOT / "scripts" / "refresh_book_assets.sh"


def pinned_versions() -> dict[str, str]:
    return dict(re.findall(r"^([A-Z_]+)_VERSION=(\S+)$", SCRIPT.read_text(encoding="utf-8"), re.M))


def book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_vendored_files_match_their_checksums() -> None:
    listed = {}
    for line in (VENDOR / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.removeprefix("./")] = digest
    present = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file() and p.name != "SHA256SUMS"}
    assert present == set(listed), "vendored files and SHA256SUMS disagree: run scripts/refresh_book_assets.sh"
    changed = [name for name, digest in listed.items()
               if hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() != digest]
    assert changed == []


def test_html_manager_matches_the_installed_ipywidgets() -> None:
    from ipywidgets._version import __html_manager_version__, __jupyter_widgets_controls_version__

    pinned = pinned_versions()["HTML_MANAGER"]
    # ipywidgets states a caret range such as "^1.0.1": same major version, at least that release.
    wanted = re.fullmatch(r"\^(\d+)\.(\d+)\.(\d+)", __html_manager_version__)
    assert wanted, __html_manager_version__
    have = tuple(int(x) for x in pinned.split("."))
    low = tuple(int(x) for x in wanted.groups())
    assert have[0] == low[0] and have >= low
    # html-manager 1.0.x renders controls 2.0.x state (ipywidgets 8); the browser test shows it rendering.
    assert __jupyter_widgets_controls_version__.startswith("2.")


def test_assets_md_names_every_pinned_version() -> None:
    text = (STATIC / "ASSETS.md").read_text(encoding="utf-8")
    versions = pinned_versions()
    assert set(versions) == {"HTML_MANAGER", "REQUIREJS", "MATHJAX"}
    assert f"`@jupyter-widgets/html-manager` {versions['HTML_MANAGER']}" in text
    assert f"`requirejs` {versions['REQUIREJS']}" in text
    assert f"`mathjax` {versions['MATHJAX']}" in text


def test_config_points_at_files_served_by_the_site() -> None:
    config = book_config()["sphinx"]["config"]
    assert config["mathjax_path"] == assets.MATHJAX_PATH
    assert tuple(config["nb_ipywidgets_js"]) == assets.IPYWIDGETS_JS
    for path in (config["mathjax_path"], *config["nb_ipywidgets_js"]):
        assert (STATIC / path).is_file(), path
    assert "spm_training.sphinxext" in config["extensions"]
    # Extensions that reach the network at build or read time stay out.
    assert not {"sphinx_thebe", "sphinx.ext.intersphinx"} & set(config["extensions"])


def test_config_fetches_nothing() -> None:
    config = book_config()
    assert config["launch_buttons"]["thebe"] is False
    assert not any(config["launch_buttons"][k] for k in ("binderhub_url", "jupyterhub_url", "colab_url",
                                                          "deepnote_url"))
    assert not any(config["html"][k] for k in ("use_repository_button", "use_issues_button",
                                               "use_edit_page_button"))
    assert config["html"]["comments"] == {"hypothesis": False, "utterances": False}
    remote = re.findall(r"https?://\S+", yaml.safe_dump(config["sphinx"]))
    assert remote == []


def test_book_root_has_no_static_folder() -> None:
    # Jupyter Book injects every .js and .css under a root _static/ into every page.
    assert not (ROOT / "_static").exists()
