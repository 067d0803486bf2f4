"""Where each table's branch is and where it goes: revisions, their schema versions, positions.

Pure functions over Alembic's script directory; the commands, the stamp hook and the facade share them.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterable

from alembic.script import ScriptDirectory

from agno_alembic import registry


class _Index:
    """What the functions below ask of a script directory, worked out once per :class:`ScriptDirectory`.

    Walking Alembic's revision map is the costly part of every call (a no-op ``up()`` asked it thousands of
    times); the map does not change while a script directory lives, so its answers are kept with it, each worked
    out when first asked (``guard.check_known`` needs only the set of revisions).
    """

    def __init__(self, script: ScriptDirectory) -> None:
        self._map = script.revision_map
        self._every = list(self._map.iterate_revisions("heads", "base"))
        self.revisions = frozenset(r.revision for r in self._every)

    @functools.cached_property
    def ancestors(self) -> dict[str, frozenset[str]]:
        """revision -> itself and everything it stands on (its branch's earlier revisions, its dependencies)."""
        return {r.revision: frozenset(a.revision for a in self._map.iterate_revisions(r.revision, "base"))
                for r in self._every}

    @functools.cached_property
    def branches(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """branch label -> ``(revision, schema version)`` of its agno-alembic revisions, oldest first."""
        found: dict[str, list[tuple[str, str]]] = {}
        for r in self._every:
            version = getattr(getattr(r, "module", None), "agno_version", None)  # a Script (a Revision with its module)
            for label in r.branch_labels or ():
                if version is not None:
                    found.setdefault(label, []).append((r.revision, version))
        return {label: tuple(sorted(pairs, key=lambda p: registry.version_index(p[1])))
                for label, pairs in found.items()}


_INDEXES: weakref.WeakKeyDictionary[ScriptDirectory, _Index] = weakref.WeakKeyDictionary()


def index(script: ScriptDirectory) -> _Index:
    found = _INDEXES.get(script)
    if found is None:
        found = _INDEXES[script] = _Index(script)
    return found


def revisions_of(script: ScriptDirectory, table_type: registry.TableType) -> list[tuple[str, str]]:
    """``(revision id, schema version)`` of one table type's branch, oldest first."""
    return list(index(script).branches.get(table_type.label, ()))


def ancestors(script: ScriptDirectory, revision: str) -> frozenset[str]:
    """``revision`` and every revision it stands on (its branch's earlier ones and its dependencies)."""
    return index(script).ancestors[revision]


def revision_at(script: ScriptDirectory, table_type: registry.TableType, version: str) -> str | None:
    """The revision of ``table_type``'s branch that gives its table the shape of schema ``version``.

    ``None`` when the table does not exist yet at that version (its branch stays at base).
    """
    key = registry.version_index(version)
    found = [rev for rev, v in revisions_of(script, table_type) if registry.version_index(v) <= key]
    return found[-1] if found else None


def order(script: ScriptDirectory, table_type: registry.TableType, revision: str | None) -> int:
    """A revision's place in its branch: -1 for base, 0 for the first revision, and so on."""
    if revision is None:
        return -1
    return [rev for rev, _ in revisions_of(script, table_type)].index(revision)


def branch_position(script: ScriptDirectory, heads: Iterable[str], table_type: registry.TableType) -> str | None:
    """Where a table type's branch stands given the version table's heads (``None``: at base).

    A branch's revision may be absent from the heads when another branch depends on it, so ancestors count.
    """
    ours = [rev for rev, _ in revisions_of(script, table_type)]
    known = index(script).ancestors
    applied: set[str] = set()
    for head in heads:
        applied.update(r for r in known.get(head, ()) if r in ours)
    return max(applied, key=ours.index) if applied else None


def coverage(script: ScriptDirectory, table_type: registry.TableType, revision: str) -> tuple[str, str]:
    """The schema versions whose shape ``revision`` gives its table: from its own to just before the next one."""
    revs = revisions_of(script, table_type)
    ids = [r for r, _ in revs]
    i = ids.index(revision)
    if i + 1 == len(revs):
        return revs[i][1], table_type.last_version
    return revs[i][1], registry.SCHEMA_VERSIONS[registry.version_index(revs[i + 1][1]) - 1]


def version_at(script: ScriptDirectory, table_type: registry.TableType, revision: str, target: str | None) -> str:
    """The schema version a table is at once its branch stands at ``revision``.

    The newest version the revision's shape covers, or the caller's ``target`` when it lies in that range.
    """
    first, top = coverage(script, table_type, revision)
    if target is not None and registry.version_index(first) <= registry.version_index(target):
        return target if registry.version_index(target) <= registry.version_index(top) else top
    return top
