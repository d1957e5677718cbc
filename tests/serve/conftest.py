from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from served import Org, build_org, with_logins


@pytest.fixture(scope="session")
def org(tmp_path_factory: pytest.TempPathFactory) -> Org:
    return build_org(tmp_path_factory.mktemp("serve-org"))


@pytest.fixture(scope="session")
def org_logins(org: Org, tmp_path_factory: pytest.TempPathFactory) -> Org:
    """The same store with hub logins and team managers' logins in its roster."""
    return with_logins(org, tmp_path_factory.mktemp("serve-org-logins"))
