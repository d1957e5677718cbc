"""Who sees what in ``spm serve``: a hub user model and the roster in, an :class:`Access` out.

Pure functions and plain data, so that every rule is tested without a server. A user can hold
several roles at once (a player-coach is a rep of one team and the manager of another); what they
see is the union.

=================  ===============================================================================
role               how it is given, and what it sees
=================  ===============================================================================
ops                the scope ``custom:spm:organisation``, or a group of ``serve.ops_groups``:
                   every page, uploads (roster, KPI file, CRM export) and syncs
trainer            the scope ``custom:spm:course``, or a group of ``serve.trainer_groups``:
                   every page, no uploads
manager            the roster's ``manager_login`` of a team: those teams and their reps
rep                the roster's ``login`` (default: the rep id) of a rep who has not left:
                   their own pages and progress
=================  ===============================================================================

Anyone else is refused (403). Scopes are read unfiltered: a role in the hub grants them to its
users or groups, and JupyterHub puts them in the user model when the service's OAuth client is
allowed to ask for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

ORGANISATION_SCOPE = "custom:spm:organisation"
COURSE_SCOPE = "custom:spm:course"


@dataclass(frozen=True)
class Access:
    """What one user may see and do."""

    login: str
    ops: bool = False
    trainer: bool = False
    #: the teams the user manages
    teams: frozenset[str] = field(default_factory=frozenset)
    #: the reps of those teams
    team_reps: frozenset[str] = field(default_factory=frozenset)
    #: the user's own rep id, when they are a rep who has not left
    rep_id: str | None = None

    @property
    def organisation(self) -> bool:
        """Sees every page (ops or trainer)."""
        return self.ops or self.trainer

    @property
    def allowed(self) -> bool:
        return self.organisation or bool(self.teams) or self.rep_id is not None

    @property
    def roles(self) -> tuple[str, ...]:
        found = [("ops", self.ops), ("trainer", self.trainer), ("manager", bool(self.teams)),
                 ("rep", self.rep_id is not None)]
        return tuple(name for name, held in found if held)

    def sees_team(self, team: str) -> bool:
        return self.organisation or team in self.teams

    def sees_rep(self, rep_id: str) -> bool:
        return self.organisation or rep_id == self.rep_id or rep_id in self.team_reps

    @property
    def sees_items(self) -> bool:
        return self.organisation

    @property
    def sees_index(self) -> bool:
        return self.organisation

    @property
    def may_upload(self) -> bool:
        return self.ops

    @property
    def may_sync(self) -> bool:
        return self.ops


def has_left(row: Mapping[str, object], today: date) -> bool:
    """A rep whose ``left_on`` is today or earlier has left the organisation."""
    left = row.get("left_on")
    return bool(left) and str(left) <= today.isoformat()


def resolve(user: Mapping[str, object], roster: Iterable[Mapping[str, object]], *,
            ops_groups: Iterable[str] = (), trainer_groups: Iterable[str] = (),
            today: date | None = None) -> Access:
    """The access of a hub ``user`` model (``name``, ``groups``, ``scopes``) given the roster rows of
    :func:`spm_training.analysis.queries.logins` (``rep_id``, ``login``, ``team``, ``manager_login``,
    ``left_on``)."""
    name = str(user.get("name") or "")
    scopes = {str(s) for s in user.get("scopes") or ()}  # type: ignore[attr-defined]
    groups = {str(g) for g in user.get("groups") or ()}  # type: ignore[attr-defined]
    day = today or date.today()
    rows = list(roster)
    teams = frozenset(str(r["team"]) for r in rows if name and r.get("manager_login") == name)
    own = [r for r in rows if name and r.get("login") == name and not has_left(r, day)]
    return Access(
        login=name,
        ops=ORGANISATION_SCOPE in scopes or bool(groups & set(ops_groups)),
        trainer=COURSE_SCOPE in scopes or bool(groups & set(trainer_groups)),
        teams=teams,
        team_reps=frozenset(str(r["rep_id"]) for r in rows if r["team"] in teams),
        rep_id=str(own[0]["rep_id"]) if own else None)


def everything(login: str) -> Access:
    """The person at the terminal in local mode: the whole organisation, uploads included."""
    return Access(login=login, ops=True, trainer=True)
