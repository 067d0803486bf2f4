"""Schema 3.0.0's data step for learnings: put user-namespace entity memories on per-user keys, by Agno's rules.

Before 3.0.0, Agno keyed an ``entity_memory`` row of namespace ``user`` by the entity alone,
``entity_user_{entity_type}_{entity_id}``, so two users who recorded the same entity shared one row.  Agno 3 keys it
``entity_user_{sha256(str(user_id))[:16] in hex}_{entity_type}_{entity_id}``.  This step moves the old rows, as
Agno 3.1.10's ``rekey_user_entity_learnings`` does (rules re-stated here from its source, not copied):

* **Selection**: rows with ``learning_type = 'entity_memory'`` and ``namespace = 'user'``.  Only rows on the old
  key can be moved or quarantined, so the walk reads just those (``learning_id`` equal to
  ``'entity_user_' || entity_type || '_' || entity_id``), in ``learning_id`` order, :data:`CHUNK_ROWS` at a time
  (keyset), so memory stays flat whatever the table's size.  Rows it writes are never on the old key, so it never
  meets them again.  (Agno reads every selected row; the ones not on the old key it only counts.)
* **Classification**, first match wins (:func:`classify`):

  - ``malformed``: ``entity_id`` or ``entity_type`` empty, or content that does not read as a JSON object;
  - ``keyed``: ``learning_id`` is not the old key (``contaminated_keyed`` when, also, the content's
    ``user_id`` is another user's); left alone;
  - ``unowned``: no ``user_id`` (NULL or ``''``); left alone;
  - ``contaminated``: the content's ``user_id`` is set and differs from the row's ``user_id`` (compared as
    text: ``123`` and ``"123"`` are one user): more than one user wrote the row;
  - ``legacy``: everything else.

* **legacy** rows move to the per-user key.  When a row already holds that key (the upgraded application wrote
  the entity first), the old row is merged into it and the target wins (:func:`merge_content`): every field the
  target lacks comes from the source; ``facts``, ``events`` and ``relationships`` are unions, the source's
  entries not already in the target first (facts compare by their case-folded, whitespace-collapsed text, else
  their ``id``; events by ``(content, date)``; relationships by ``(entity_id, entity_type, relation,
  direction)``; a bare string by its folded text); an empty ``description`` takes the source's; ``properties``
  are merged, the target's winning; the source's ``name`` and ``aliases`` not already among the target's name and
  aliases (compared stripped, lower-cased) are appended to the target's ``aliases``.  The target keeps its
  columns; its content becomes the merge, its ``metadata`` stays unless it reads as nothing or empty (then the
  source's), its ``updated_at`` becomes the migration time.  A target whose content does not read as a JSON
  object is a *conflict*; a merge that cannot be made (a collection that is not a list, unhashable entries...)
  *failed*: both leave the old row where it is.  Then the old row is deleted.
* **contaminated** rows move to ``entity_quarantined_user_{entity_type}_{entity_id}``, namespace
  ``quarantined_user``, which no store reads; if that row exists already, its content and metadata are replaced
  and its ``updated_at`` is the migration time.  Then the old row is deleted.
* Content is written as the object it reads as (a JSON string holding an object is stored as the object).

Where this differs from Agno (Agno moves rows through its store API, which cannot carry these values):

* a moved row (re-keyed, or quarantined to a new key) keeps ``workflow_id``, ``created_at`` and ``updated_at``;
  Agno writes ``workflow_id`` NULL and both timestamps as the migration time, resetting entity recency;
* ``metadata`` that is neither an object nor a string is kept; Agno writes NULL for it;
* content that is not valid JSON text (SQLite) is ``malformed``; Agno's read raises and its migration stops;
* offline it all runs in the migration's transaction (every row moves, or none); online each chunk of
  :data:`CHUNK_ROWS` rows on the old key moves whole in a committed transaction of its own, with the step's
  progress row, and a rerun after a crash resumes there (see :func:`rekey_entities`).

The downgrade cannot restore the old keys (one old key is shared by every user who has the entity, so moving
rows back would merge users' data again): it is refused while per-user or quarantined rows exist
(:func:`refuse_downgrade`), unless data loss is allowed; then the rows stay as they are, and Agno 2.x writes
entities to the shared key again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from agno_alembic import dialects, registry, runtime, shapes
from agno_alembic.errors import DataVerificationError, DowngradeRefusedError
from agno_alembic.naming import Names
from agno_alembic.shapes._dsl import TableSpec

log = logging.getLogger("agno_alembic")

CHUNK_ROWS = 500
"""Rows per chunk of the walk: memory stays bounded whatever the table's size."""
EXAMPLES = 5
"""Learning ids kept per bucket for the report."""

ENTITY_MEMORY = "entity_memory"
USER_NAMESPACE = "user"
QUARANTINE_NAMESPACE = "quarantined_user"

LEGACY, KEYED, CONTAMINATED_KEYED, UNOWNED, CONTAMINATED, MALFORMED = (
    "legacy", "keyed", "contaminated_keyed", "unowned", "contaminated", "malformed",
)
REKEYED, MERGED, QUARANTINED, CONFLICTS, FAILED = "rekeyed", "merged", "quarantined", "conflicts", "failed"

COLUMNS = (
    "learning_id", "learning_type", "namespace", "user_id", "agent_id", "team_id", "workflow_id", "session_id",
    "entity_id", "entity_type", "content", "metadata", "created_at", "updated_at",
)


# -- keys ---------------------------------------------------------------------------------------------------


def legacy_id(entity_type: Any, entity_id: Any, namespace: str = USER_NAMESPACE) -> str:
    """The pre-3.0 key of an entity: ``entity_{namespace}_{entity_type}_{entity_id}``."""
    return f"entity_{namespace}_{entity_type}_{entity_id}"


def user_key(user_id: Any) -> str:
    """The user segment of a per-user key: the first 16 hex digits of the SHA-256 of ``str(user_id)`` (UTF-8)."""
    return hashlib.sha256(str(user_id).encode("utf-8")).hexdigest()[:16]


def user_scoped_id(user_id: Any, entity_type: Any, entity_id: Any) -> str:
    """Agno 3's key of a user-namespace entity: ``entity_user_{user_key(user_id)}_{entity_type}_{entity_id}``."""
    return f"entity_{USER_NAMESPACE}_{user_key(user_id)}_{entity_type}_{entity_id}"


def quarantine_id(entity_type: Any, entity_id: Any) -> str:
    """Where a contaminated row goes: ``entity_quarantined_user_{entity_type}_{entity_id}``."""
    return legacy_id(entity_type, entity_id, QUARANTINE_NAMESPACE)


# -- reading values as Agno reads them ----------------------------------------------------------------------


def as_object(value: Any) -> Any:
    """A JSON column's value as Agno's parser takes it: objects as they are, strings parsed, anything else None."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def _kept(value: Any) -> Any:
    """``metadata`` to write: what :func:`as_object` makes of it, or the value itself where that would lose it."""
    parsed = as_object(value)
    return value if parsed is None else parsed


def same_user(left: Any, right: Any) -> bool:
    """Two user ids name one user when both are set and equal as text (``None`` matches nothing)."""
    return left is not None and right is not None and str(left) == str(right)


def classify(row: Mapping[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """A user-namespace entity row's bucket, with its content object when the bucket is ``legacy``."""
    entity_id, entity_type = row.get("entity_id"), row.get("entity_type")
    if not (entity_id and entity_type):
        return MALFORMED, None
    content = as_object(row.get("content"))
    if not isinstance(content, dict):
        return MALFORMED, None
    owner = row.get("user_id")
    recorded = content.get("user_id")
    contaminated = bool(owner) and recorded is not None and not same_user(recorded, owner)
    if row.get("learning_id") != legacy_id(entity_type, entity_id):
        return (CONTAMINATED_KEYED if contaminated else KEYED), None
    if not owner:
        return UNOWNED, None
    if contaminated:
        return CONTAMINATED, None
    return LEGACY, content


# -- merging into an existing target ------------------------------------------------------------------------


def fact_text(text: str) -> str:
    """Case-folded, stripped, every run of whitespace one space: how the entity store compares facts."""
    return re.sub(r"\s+", " ", text.strip().casefold())


def _identity(kind: str, entry: Any) -> Any:
    if not isinstance(entry, dict):
        return fact_text(str(entry))
    if kind == "facts":
        text = entry.get("content")
        return fact_text(str(text)) if text else entry.get("id")
    if kind == "events":
        return entry.get("content"), entry.get("date")
    return entry.get("entity_id"), entry.get("entity_type"), entry.get("relation"), entry.get("direction")


def _entries(content: Mapping[str, Any], kind: str) -> list[Any]:
    value = content.get(kind)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"{kind} is not a list")
    return list(value)


def merge_content(source: Mapping[str, Any], target: Mapping[str, Any]) -> dict[str, Any]:
    """The target's content with the source's folded in; the target wins (see the module's rules).

    Raises (``TypeError``...) when the two cannot be merged without dropping something.
    """
    merged: dict[str, Any] = {**source, **target}
    for kind in ("facts", "events", "relationships"):
        kept = _entries(target, kind)
        known = {_identity(kind, e) for e in kept}
        merged[kind] = [e for e in _entries(source, kind) if _identity(kind, e) not in known] + kept
    if not merged.get("description") and source.get("description"):
        merged["description"] = source["description"]
    merged["properties"] = {**(source.get("properties") or {}), **(target.get("properties") or {})}
    aliases = list(target.get("aliases") or [])
    seen = {str(n).strip().lower() for n in [target.get("name"), *(target.get("aliases") or [])] if n}
    for name in [source.get("name"), *(source.get("aliases") or [])]:
        if name and str(name).strip().lower() not in seen:
            aliases.append(str(name))
            seen.add(str(name).strip().lower())
    merged["aliases"] = aliases
    return merged


# -- the step -----------------------------------------------------------------------------------------------


@dataclass
class RekeyReport:
    """What :func:`rekey_entities` did: rows per bucket, and a few learning ids of each."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, bucket: str, learning_id: str) -> None:
        self.counts[bucket] = self.counts.get(bucket, 0) + 1
        ids = self.examples.setdefault(bucket, [])
        if len(ids) < EXAMPLES:
            ids.append(learning_id)

    @property
    def changed(self) -> bool:
        """Agno's return value: whether any row was re-keyed, merged or quarantined."""
        return any(self.counts.get(b) for b in (REKEYED, MERGED, QUARANTINED))


_NOTES = (
    (CONFLICTS, logging.WARNING, "stay on the old key: the row on their new key holds content that is not an object"),
    (FAILED, logging.WARNING, "stay on the old key: their content cannot be merged into the row on their new key"),
    (MALFORMED, logging.WARNING, "stay on the old key: no entity columns, or content that is not an object"),
    (QUARANTINED, logging.INFO, f"held more than one user's data and moved to namespace {QUARANTINE_NAMESPACE}"),
    (UNOWNED, logging.INFO, "have no user_id and stay on the old key, readable by every user"),
)


def _tables(spec: TableSpec, backend: str) -> tuple[sa.Table, sa.Table]:
    """The table to read (JSON as Agno's reads hand it over) and the table to write (JSON columns as JSON).

    On SQLite the JSON columns are read as their stored text and parsed by :func:`_reader`, so a text that does not
    parse is kept as text (and reads as no object) instead of stopping the step.
    """
    table = spec.sa_table()
    if backend != registry.SQLITE:
        return table, table
    raw = sa.Table(table.name, sa.MetaData(), *[
        sa.Column(c.name, sa.Text() if c.name in ("content", "metadata") else c.type, primary_key=c.primary_key)
        for c in table.columns
    ], schema=spec.schema)
    return raw, table


def _reader(backend: str) -> Callable[[sa.RowMapping], dict[str, Any]]:
    def read(row: sa.RowMapping) -> dict[str, Any]:
        out: dict[str, Any] = {str(k): v for k, v in row.items()}
        if backend == registry.SQLITE:
            for name in ("content", "metadata"):
                value = out[name]
                if isinstance(value, bytes | bytearray):
                    value = value.decode("utf-8", "replace")
                if isinstance(value, str):
                    # Text that does not parse is kept as text: it parses to nothing, as with Agno's parser.
                    with contextlib.suppress(ValueError):
                        value = json.loads(value)
                out[name] = value
        return out

    return read


def _old_key(t: sa.Table) -> sa.ColumnElement[bool]:
    return sa.and_(
        t.c.learning_type == ENTITY_MEMORY,
        t.c.namespace == USER_NAMESPACE,
        t.c.learning_id == sa.literal(f"entity_{USER_NAMESPACE}_") + t.c.entity_type + sa.literal("_") + t.c.entity_id,
    )


def _chunks(connection: sa.Connection, t: sa.Table, where: sa.ColumnElement[bool], size: int,
            columns: Sequence[sa.ColumnElement[Any]], after: str = "") -> Iterator[Sequence[sa.Row[Any]]]:
    """The rows of ``where`` in ``learning_id`` order, ``size`` at a time, after the key ``after``."""
    after_key: str | None = after or None
    while True:
        query = sa.select(*columns).where(where).order_by(t.c.learning_id).limit(size)
        if after_key is not None:
            query = query.where(t.c.learning_id > after_key)
        rows = connection.execute(query).all()
        if not rows:
            return
        yield rows
        after_key = rows[-1].learning_id


def _live() -> bool:
    """Whether the step runs online (outside a migration step, as in the tests calling the rule: no)."""
    try:
        return runtime.state().live
    except (NameError, AttributeError, RuntimeError):
        return False


def rekey_entities(connection: sa.Connection, spec: TableSpec, *, chunk: int | None = None) -> RekeyReport:
    """Move every user-namespace entity row off its pre-3.0 key (a data rule of the learnings 3.0.0 step).

    Online, each chunk (its moves, merges, quarantines and its check) is a transaction of its own, committed with
    the step's progress row (``status`` shows it; a rerun resumes after its key), then one more pass from the
    first key moves what an Agno 2.x replica wrote on an old key behind the walk. A crash between chunks loses
    nothing: the walk reads only rows still on an old key, and each chunk moves its rows whole. Offline, and
    outside a migration step, it all runs in the caller's transaction."""
    backend = dialects.backend_of(connection.dialect)
    step = _Step(connection, *_tables(spec, backend), _reader(backend), int(time.time()))
    started = time.monotonic()
    t = step.source
    if _live():
        _rekey_online(connection, backend, spec, step, chunk or CHUNK_ROWS, started)
    else:
        for rows in _chunks(connection, t, _old_key(t), chunk or CHUNK_ROWS, list(t.c)):
            step.run([step.read(r._mapping) for r in rows])
            log.info("%s: re-keyed user entity memories up to %r (%.1fs)", spec.name, rows[-1].learning_id,
                     time.monotonic() - started)
    report = step.report
    for bucket, level, note in _NOTES:
        if report.counts.get(bucket):
            log.log(level, "%s: %d entity_memory row(s) %s, e.g. %s", spec.name, report.counts[bucket], note,
                    ", ".join(report.examples[bucket]))
    log.info("%s: entity re-key done: %s", spec.name,
             ", ".join(f"{b}={n}" for b, n in sorted(report.counts.items())) or "nothing on the old key")
    return report


def _rekey_online(connection: sa.Connection, backend: str, spec: TableSpec, step: _Step, size: int,
                  started: float) -> None:
    """The walk in committed chunks with a progress row (see :func:`rekey_entities`)."""
    from agno_alembic.data import batched

    t = step.source
    progress = batched.ensure_progress_table(connection, spec.schema)
    name = f"{spec.name}.{ENTITY_MEMORY} {batched.REKEY}"
    total = batched._retrying(connection, backend, lambda: int(connection.execute(
        sa.select(sa.func.count()).select_from(t).where(_old_key(t))).scalar_one()))
    found = batched._retrying(connection, backend, lambda: batched.begin_progress(connection, progress, name, total))
    record = progress.update().where(progress.c.step == name)

    def one(after: str, done: int) -> Sequence[sa.Row[Any]]:
        """One chunk after the key ``after``, its own transaction (on SQLite it begins with a write, so it waits
        for the application's writers with the busy timeout; see ``batched._batch``)."""
        saved = RekeyReport({**step.report.counts}, {k: list(v) for k, v in step.report.examples.items()})
        try:
            connection.execute(record.values(updated_at=int(time.time())))
            query = sa.select(*t.c).where(_old_key(t)).order_by(t.c.learning_id).limit(size)
            rows = connection.execute(query.where(t.c.learning_id > after) if after else query).all()
            if rows:
                step.run([step.read(r._mapping) for r in rows])
                connection.execute(record.values(position=rows[-1].learning_id, done=done + len(rows),
                                                 total=max(found.total, done + len(rows))))
            batched._commit(connection)
            return rows
        except BaseException:
            step.report, step.ops = saved, []  # rolled back: retried whole, counted once
            raise

    after, done = found.position, found.done
    while rows := batched._retrying(connection, backend, lambda a=after, d=done: one(a, d)):
        after, done = rows[-1].learning_id, done + len(rows)
        log.info("%s: re-keyed user entity memories up to %r (%d/%d, %.1fs)", spec.name, after, done,
                 found.total, time.monotonic() - started)
    # rows an Agno 2.x replica wrote on an old key behind the walk; the rows left where they are, walked again,
    # are counted once
    counted = dict(step.report.counts)
    after = ""
    while rows := batched._retrying(connection, backend, lambda a=after, d=done: one(a, d)):
        after = rows[-1].learning_id
    for bucket in (MALFORMED, UNOWNED, KEYED, CONTAMINATED_KEYED, CONFLICTS, FAILED):
        if bucket in counted:
            step.report.counts[bucket] = counted[bucket]
    batched._retrying(connection, backend, lambda: batched.end_progress(connection, progress, name))


class _Step:
    """The walk's work, one chunk at a time: decided row by row in key order as Agno does, written in a few
    statements per chunk.

    ``state`` holds the chunk's rows of interest as the decisions so far leave them (``None``: deleted), so each
    decision sees the writes of the ones before it, as Agno's row-by-row re-reads do.
    """

    def __init__(self, connection: sa.Connection, source: sa.Table, target: sa.Table,
                 read: Callable[[sa.RowMapping], dict[str, Any]], now: int) -> None:
        self.connection, self.source, self.target, self.read, self.now = connection, source, target, read, now
        self.report = RekeyReport()
        self.state: dict[str, dict[str, Any] | None] = {}
        self.ops: list[tuple[str, str, dict[str, Any]]] = []
        t = target
        self.update = t.update().where(t.c.learning_id == sa.bindparam("b_id")).values(
            content=sa.bindparam("b_content"), metadata=sa.bindparam("b_metadata"),
            updated_at=sa.bindparam("b_updated_at"),
        )

    def run(self, rows: list[dict[str, Any]]) -> None:
        self.state = {row["learning_id"]: row for row in rows}
        wanted: set[str] = set()
        for row in rows:
            bucket, _ = classify(row)
            if bucket == LEGACY:
                wanted.add(user_scoped_id(row["user_id"], row["entity_type"], row["entity_id"]))
            elif bucket == CONTAMINATED:
                wanted.add(quarantine_id(row["entity_type"], row["entity_id"]))
        wanted -= self.state.keys()
        if wanted:
            t = self.source
            for found in self.connection.execute(sa.select(t).where(t.c.learning_id.in_(sorted(wanted)))):
                self.state[found.learning_id] = self.read(found._mapping)
        for row in rows:
            self._one(row["learning_id"])
        written = sorted({i for kind, i, _ in self.ops if kind != "delete" and self.state.get(i) is not None})
        self._write()
        self._verify(written)

    def _verify(self, written: list[str]) -> None:
        """The chunk's check before the step goes on: every row it moved or merged is on its new key (a shortfall
        raises; the step's transaction rolls back, nothing is recorded)."""
        if not written:
            return
        t = self.target
        found = set(self.connection.execute(
            sa.select(t.c.learning_id).where(t.c.learning_id.in_(written))
        ).scalars())
        missing = [i for i in written if i not in found]
        if missing:
            raise DataVerificationError(
                f"The entity re-key of {t.name} wrote {len(written) - len(missing)} of {len(written)} row(s) of a "
                f"chunk (missing e.g. {', '.join(map(repr, missing[:EXAMPLES]))}); the step is not recorded as "
                "applied.",
                step="learnings entity re-key", table=t.name, expected=len(written), missing=len(missing),
                examples=missing[:EXAMPLES],
            )

    def _one(self, old: str) -> None:
        row = self.state.get(old)
        if row is None:  # deleted by a decision before this one
            return
        bucket, content = classify(row)
        if bucket in (MALFORMED, UNOWNED, KEYED, CONTAMINATED_KEYED):
            self.report.add(bucket, old)
            return
        if bucket == CONTAMINATED:
            self._quarantine(row)
            self.report.add(QUARANTINED, old)
            return
        assert content is not None
        new = user_scoped_id(row["user_id"], row["entity_type"], row["entity_id"])
        target = self.state.get(new)
        if target is None:
            self._insert({**row, "learning_id": new, "content": content, "metadata": _kept(row["metadata"])})
            outcome = REKEYED
        else:
            target_content = as_object(target["content"])
            if not isinstance(target_content, dict):
                self.report.add(CONFLICTS, old)
                return
            try:
                merged = merge_content(content, target_content)
            except Exception as exc:
                log.warning("%s: cannot merge %s into %s (%s); left in place", self.target.name, old, new, exc)
                self.report.add(FAILED, old)
                return
            self._update(new, merged, _kept(target["metadata"]) or _kept(row["metadata"]))
            outcome = MERGED
        self._delete(old)
        self.report.add(outcome, old)

    def _quarantine(self, row: dict[str, Any]) -> None:
        new = quarantine_id(row["entity_type"], row["entity_id"])
        content = as_object(row["content"]) or {}
        if self.state.get(new) is None:
            self._insert({**row, "learning_id": new, "learning_type": ENTITY_MEMORY,
                          "namespace": QUARANTINE_NAMESPACE, "content": content, "metadata": _kept(row["metadata"])})
        else:
            self._update(new, content, _kept(row["metadata"]))
        self._delete(row["learning_id"])

    def _insert(self, row: dict[str, Any]) -> None:
        self.state[row["learning_id"]] = row
        self.ops.append(("insert", row["learning_id"], {c: row[c] for c in COLUMNS}))

    def _update(self, learning_id: str, content: dict[str, Any], metadata: Any) -> None:
        values = {"content": content, "metadata": metadata, "updated_at": self.now}
        self.state[learning_id] = {**(self.state[learning_id] or {}), **values}
        self.ops.append(("update", learning_id, values))

    def _delete(self, learning_id: str) -> None:
        self.state[learning_id] = None
        self.ops.append(("delete", learning_id, {}))

    def _write(self) -> None:
        written = [i for kind, i, _ in self.ops if kind != "delete"]
        deleted = {i for kind, i, _ in self.ops if kind == "delete"}
        if len(set(written)) == len(written) and not deleted & set(written):
            # No row is touched twice, so the writes need not keep their order: a few statements per chunk.
            for kind in ("insert", "update", "delete"):
                self._execute(kind, [(i, v) for k, i, v in self.ops if k == kind])
        else:
            for kind, i, values in self.ops:
                self._execute(kind, [(i, values)])
        self.ops = []

    def _execute(self, kind: str, items: list[tuple[str, dict[str, Any]]]) -> None:
        if not items:
            return
        t = self.target
        if kind == "insert":
            self.connection.execute(t.insert(), [values for _, values in items])
        elif kind == "update":
            self.connection.execute(self.update, [
                {"b_id": i, "b_content": v["content"], "b_metadata": v["metadata"], "b_updated_at": v["updated_at"]}
                for i, v in items
            ])
        else:
            self.connection.execute(t.delete().where(t.c.learning_id.in_([i for i, _ in items])))


# -- the downgrade ------------------------------------------------------------------------------------------


def per_user_rows(connection: sa.Connection, spec: TableSpec) -> tuple[int, int]:
    """What the re-key has made of the table: ``(entity rows on per-user keys, rows in quarantine)``."""
    t = spec.sa_table()
    candidates = sa.and_(
        t.c.learning_type == ENTITY_MEMORY,
        t.c.namespace == USER_NAMESPACE,
        t.c.user_id.is_not(None),
        t.c.learning_id.like(f"entity_{USER_NAMESPACE}_%"),
    )
    columns = [t.c.learning_id, t.c.user_id, t.c.entity_type, t.c.entity_id]
    keyed = sum(  # four short columns a row: chunks ten times the step's
        r.learning_id == user_scoped_id(r.user_id, r.entity_type, r.entity_id)
        for rows in _chunks(connection, t, candidates, CHUNK_ROWS * 10, columns)
        for r in rows
    )
    quarantined = connection.execute(
        sa.select(sa.func.count()).where(t.c.learning_type == ENTITY_MEMORY, t.c.namespace == QUARANTINE_NAMESPACE)
    ).scalar_one()
    return int(keyed), int(quarantined)


def refuse_downgrade(connection: sa.Connection, spec: TableSpec) -> None:
    """Refuse to take learnings below 3.0.0 while the table holds per-user or quarantined entity rows.

    The re-key cannot be undone: a pre-3.0 key is shared by every user who has the entity, so moving rows back
    would merge users' data again.  With data loss allowed the rows are left as they are.
    """
    keyed, quarantined = per_user_rows(connection, spec)
    if not keyed and not quarantined:
        return
    what = (f"the per-user keys of {keyed} entity_memory row(s), and the quarantine of {quarantined} "
            f"(namespace {QUARANTINE_NAMESPACE})")
    table = f"{spec.schema}.{spec.name}" if spec.schema else spec.name
    if runtime.state().allow_data_loss:
        log.warning("%s goes below schema 3.0.0 and loses %s: the rows are left as they are", table, what)
        return
    raise DowngradeRefusedError(
        f"Refusing to take {table} below schema 3.0.0: it would lose {what}. The entity re-key cannot be undone: "
        "one pre-3.0 key is shared by every user who has the entity, so the old keys cannot be restored without "
        "merging users' data again. Left as they are, these rows meet Agno 2.x, which writes every user's entity "
        "to that shared key again (one user's entity overwrites another's, and each entity splits across two "
        "rows). Back them up, then allow data loss explicitly (-x allow_data_loss=true, or allow_data_loss=True "
        "in Python): the rows are then left as they are.",
        table=spec.name,
        would_destroy=what,
        allow_option="allow_data_loss",
    )


def rows_on_old_keys(connection: sa.Connection, spec: TableSpec) -> Iterator[str]:
    """The learning ids the step would move now (on an old key, ``legacy`` or ``contaminated``), in key order."""
    backend = dialects.backend_of(connection.dialect)
    t, _ = _tables(spec, backend)
    read = _reader(backend)
    for rows in _chunks(connection, t, _old_key(t), CHUNK_ROWS, list(t.c)):
        for r in rows:
            if classify(read(r._mapping))[0] in (LEGACY, CONTAMINATED):
                yield r.learning_id


def step_applied(connection: sa.Connection, seen: object, names: Names) -> bool:
    """Whether the table shows the 3.0.0 step done (its shape does not change, so its rows must tell).

    Done when no row is left to move; a table whose step left rows in place (a conflict, a failed merge) reads as
    not done, and running the step again leaves them again.  Fits ``agno_alembic.detect``'s special checks.
    """
    spec = shapes.spec("learnings", dialects.backend_of(connection.dialect), registry.LATEST_VERSION, names)
    return next(rows_on_old_keys(connection, spec), None) is None
