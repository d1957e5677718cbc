"""The page cache (bounded, one computation per key however many ask at once) and the serve section
of spm.yml."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from spm_training.errors import CatalogError
from spm_training.serve.cache import PageCache
from spm_training.settings import ServeSettings, load_serve_settings


def test_the_cache_keeps_the_most_recently_used_pages_only() -> None:
    cache: PageCache[str] = PageCache(2)
    for key in ("a", "b", "a", "c"):        # "b" is the least recently used when "c" arrives
        cache.get(key, lambda k=key: k.upper())
    assert len(cache) == 2 and (cache.renders, cache.hits) == (3, 1)
    assert cache.get("a", lambda: "again") == "A" and cache.get("b", lambda: "B2") == "B2"
    with pytest.raises(ValueError, match="at least one page"):
        PageCache(0)


def test_many_requests_for_one_cold_page_compute_it_once() -> None:
    cache: PageCache[int] = PageCache(4)
    calls = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("team", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 8 and len(calls) == 1 and cache.renders == 1 and cache.hits == 7


def test_a_failed_computation_is_not_kept() -> None:
    cache: PageCache[int] = PageCache(4)

    def broken() -> int:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cache.get("x", broken)
    assert cache.get("x", lambda: 1) == 1 and cache.renders == 1


def test_the_serve_settings_and_their_defaults(tmp_path: Path) -> None:
    assert load_serve_settings(None) == ServeSettings(("spm-ops",), ("spm-trainers",), 0)
    spm_yml = tmp_path / "spm.yml"
    spm_yml.write_text("serve:\n  ops_groups: [revops, sales-ops]\n  trainer_groups: enablement\n"
                       "  sync_every_minutes: 30\n")
    assert load_serve_settings(spm_yml) == ServeSettings(("revops", "sales-ops"), ("enablement",), 30)


@pytest.mark.parametrize(("text", "message"), [
    ("serve: [spm-ops]\n", ": serve needs a mapping"),
    ("serve:\n  ops_group: [x]\n", ":2: unknown serve setting 'ops_group'"),
    ("serve:\n  ops_groups: [1]\n", ":2: serve ops_groups must be a list of hub group names, not [1]"),
    ("serve:\n  sync_every_minutes: -5\n",
     ":2: serve sync_every_minutes must be a whole number from 0 to 10080, not -5"),
])
def test_a_broken_serve_section_is_one_line_naming_the_fix(tmp_path: Path, text: str, message: str) -> None:
    spm_yml = tmp_path / "spm.yml"
    spm_yml.write_text(text)
    with pytest.raises(CatalogError) as found:
        load_serve_settings(spm_yml)
    assert str(found.value) == (f"{spm_yml}{message}; write serve: {{ops_groups: [spm-ops], trainer_groups: "
                                "[spm-trainers], sync_every_minutes: 0} (the defaults)")
