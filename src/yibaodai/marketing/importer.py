"""Importing the bureau's list: read, find the table, parse each row, match rows with each
other, with the prospects of earlier imports and with the institutions the gateway knows, then
write prospects, one match row per data row, the import's report and its audit row — all in
the caller's unit of work, so a failure leaves nothing behind.

Every data row ends as exactly one of: **new** (it made a prospect), **updated** (it refreshed
a prospect of an earlier import), **merged** (it was folded into another row of this file, the
first row of its group) or **refused** (it cannot be a prospect: no name, no Dalian district).
A re-import of the same or a newer list therefore updates rather than duplicates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from yibaodai.audit.log import record as audit
from yibaodai.db.locks import lock_for_append
from yibaodai.db.models import (
    CaseRow,
    InstitutionRow,
    ListImportRow,
    ProspectMatchRow,
    ProspectRow,
)
from yibaodai.domain.codes import institution_code_area
from yibaodai.domain.marketing.layout import Layout, find_layout
from yibaodai.domain.marketing.matching import (
    MATCHING_VERSION,
    Clustering,
    MatchReason,
    MatchRecord,
    address_key,
    cluster,
    name_key,
    similarity,
)
from yibaodai.domain.marketing.rows import ListRow, RowIssue, parse_table
from yibaodai.errors import FieldError, ValidationFailed
from yibaodai.marketing.assignment import Candidate, assign_prospects, plan_assignments
from yibaodai.marketing.bulk import insert_rows
from yibaodai.marketing.reader import Sheet, read_list


@dataclass
class ImportReport:
    """What an import did. ``as_dict`` is the JSON the CLI prints and the platform serves."""

    import_id: int
    filename: str
    sheet: str
    header_rows: list[int]
    read: int
    new: int
    updated: int
    merged: int
    refused: list[RowIssue]
    warnings: list[RowIssue]
    merges: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    linked: dict[str, int] = field(default_factory=dict)
    changed: int = 0   # of the updated prospects, those whose stored values changed
    assigned: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id, "file": self.filename, "sheet": self.sheet,
            "header_rows": self.header_rows, "read": self.read, "new": self.new,
            "updated": self.updated, "merged": self.merged,
            "refused": [i.as_dict() for i in self.refused],
            "warnings": [i.as_dict() for i in self.warnings],
            "changed": self.changed, "merges": self.merges, "skipped": self.skipped,
            "linked": self.linked,
            "assigned": self.assigned, "matching_version": MATCHING_VERSION,
        }


def _choose_sheet(sheets: Sequence[Sheet]) -> tuple[Sheet, Layout]:
    """The first sheet with a recognisable header (lists often start with a notes sheet)."""
    for sheet in sheets:
        layout = find_layout(sheet.rows)
        if layout is not None:
            return sheet, layout
    zh = "找不到表头：前30行中没有一行含“机构名称”（或定点机构名称、单位名称等）列名"
    en = ("no header found: none of the first 30 rows names the institution-name column "
          "(机构名称, 定点机构名称, 单位名称, ...)")
    raise ValidationFailed(message_zh=f"无法读取名单文件：{zh}",
                           message_en=f"cannot read the list file: {en}",
                           code="list_unreadable", fields=[FieldError("file", zh, en)])


# ---------------------------------------------------------------------------------------------
# Matching against what is stored
# ---------------------------------------------------------------------------------------------


_REFRESHED = ("fixmedins_code", "uscc", "name", "name_key", "address", "address_key",
              "district", "phones", "contact", "kind", "kind_text", "designated_on", "latitude",
              "longitude")
_LINK_COLUMNS = ("institution_code", "link_reason", "link_score")
_prospects = cast(Table, ProspectRow.__table__)


@dataclass(frozen=True)
class _Stored:
    """Stored prospects and known institutions as match records (keys before the rows')."""

    records: list[MatchRecord]
    prospect_of: dict[int, int]       # record key -> prospect id
    institution_of: dict[int, str]    # record key -> fixmedins_code
    values: dict[int, dict[str, Any]]  # prospect id -> its refreshable and link columns
    places: dict[str, tuple[float | None, float | None]]  # institution -> coordinates


def _stored(session: Session) -> _Stored:
    records: list[MatchRecord] = []
    prospect_of: dict[int, int] = {}
    institution_of: dict[int, str] = {}
    values: dict[int, dict[str, Any]] = {}
    columns = [ProspectRow.id, *(getattr(ProspectRow, c) for c in _REFRESHED + _LINK_COLUMNS)]
    for row in session.execute(select(*columns).order_by(ProspectRow.id)).mappings():
        pid = row["id"]
        prospect_of[len(records)] = pid
        values[pid] = {c: row[c] for c in _REFRESHED + _LINK_COLUMNS}
        records.append(MatchRecord(len(records), row["district"], row["name_key"],
                                   row["address_key"], row["fixmedins_code"], row["uscc"], pid))
    places: dict[str, tuple[float | None, float | None]] = {}
    for code, uscc, area, name, addr, lat, lon in session.execute(select(
            InstitutionRow.fixmedins_code, InstitutionRow.uscc, InstitutionRow.area_code,
            InstitutionRow.fixmedins_name, InstitutionRow.addr, InstitutionRow.latitude,
            InstitutionRow.longitude)):
        institution_of[len(records)] = code
        places[code] = (lat, lon)
        records.append(MatchRecord(len(records), area or institution_code_area(code),
                                   name_key(name), address_key(addr or ""), code, uscc))
    return _Stored(records, prospect_of, institution_of, values, places)


def _row_record(key: int, row: ListRow) -> MatchRecord:
    return MatchRecord(key, row.district, name_key(row.name), address_key(row.address or ""),
                       row.fixmedins_code, row.uscc)


def _combined(rows: Sequence[ListRow]) -> ListRow:
    """The first row of a group, its gaps filled from the others (phones from all)."""
    first = rows[0]
    if len(rows) == 1:  # most groups: nothing to fill, its phones already de-duplicated
        return first
    filled: dict[str, Any] = {}
    for name in ("fixmedins_code", "uscc", "address", "contact", "kind", "kind_text",
                 "designated_on", "latitude", "longitude"):
        if getattr(first, name) is None:
            filled[name] = next((getattr(r, name) for r in rows if getattr(r, name) is not None),
                                None)
    phones = list(dict.fromkeys(p for r in rows for p in r.phones))
    return replace(first, **filled, phones=tuple(phones))


def _fields(row: ListRow) -> dict[str, Any]:
    """The columns a list row sets on its prospect."""
    return {"fixmedins_code": row.fixmedins_code, "uscc": row.uscc, "name": row.name,
            "name_key": name_key(row.name), "address": row.address,
            "address_key": address_key(row.address or ""), "district": row.district,
            "phones": list(row.phones), "contact": row.contact, "kind": row.kind,
            "kind_text": row.kind_text, "designated_on": row.designated_on,
            "latitude": row.latitude, "longitude": row.longitude}


def _refreshed(stored: dict[str, Any], group: _Group) -> dict[str, Any]:
    """A stored prospect's columns after a newer list: the list's values, except that an
    empty cell never blanks a stored value (and a stored link is kept)."""
    fresh = _fields(group.combined) | group.link
    return {c: fresh[c] if fresh.get(c) not in (None, []) else stored[c]
            for c in _REFRESHED + _LINK_COLUMNS}


def _link(row: ListRow, inst_record: MatchRecord) -> tuple[str, int]:
    if row.fixmedins_code and row.fixmedins_code == inst_record.code:
        return MatchReason.CODE.value, 100
    if row.uscc and row.uscc == inst_record.uscc:
        return MatchReason.USCC.value, 100
    return MatchReason.NAME_ADDRESS.value, similarity(_row_record(-1, row), inst_record).score


@dataclass(eq=False)
class _Group:
    """One institution of the import: its rows (first row first), the stored prospect it
    refreshes (for a new one, the id once inserted) and the gateway institution it is linked
    to."""

    rows: list[ListRow]
    combined: ListRow
    prospect_id: int | None
    is_new: bool
    link: dict[str, Any]              # institution_code, link_reason, link_score (or empty)
    moved: bool                       # the list puts a stored prospect in another district
    merged: list[dict[str, Any]]      # how each further row was folded in
    first_link: tuple[str, int] | None  # how the first row matched (when it did)

    def matches(self) -> list[dict[str, Any]]:
        """One ``prospect_matches`` row per sheet row of the group."""
        if not self.rows:
            return []
        reason, score = self.first_link if self.first_link and not self.is_new else (None, None)
        first: dict[str, Any] = {
            "sheet_row": self.rows[0].row, "outcome": "new" if self.is_new else "updated",
                 "prospect_id": self.prospect_id, "reason": reason, "score": score,
                 "into_row": None, "details": {}}
        return [first, *({"sheet_row": m["row"], "outcome": "merged",
                          "prospect_id": self.prospect_id, "reason": m["reason"],
                          "score": m["score"], "into_row": m["into_row"], "details": m}
                         for m in self.merged)]


def _resolve(group: tuple[int, ...], *, base: int, stored: _Stored, rows: Sequence[ListRow],
             clustering: Clustering) -> _Group:
    row_keys = [k for k in group if k >= base]
    prospect_key = next((k for k in group if k in stored.prospect_of), None)
    inst_key = next((k for k in group if k in stored.institution_of), None)
    mine = [rows[k - base] for k in row_keys]
    combined = _combined(mine) if mine else None
    link: dict[str, Any] = {}
    relink = prospect_key is not None and stored.values[stored.prospect_of[prospect_key]][
        "institution_code"] is None
    if inst_key is not None and (combined is not None or relink):
        if combined is not None:
            reason, score = _link(combined, stored.records[inst_key])
        else:
            found = clustering.links[inst_key]
            reason, score = found.reason.value, found.score
        link = {"institution_code": stored.institution_of[inst_key], "link_reason": reason,
                "link_score": score}
    merged = []
    for key, row in zip(row_keys[1:], mine[1:], strict=True):
        found = clustering.links[key]
        into = found.other if found.other >= base else row_keys[0]
        merged.append({"row": row.row, "into_row": rows[into - base].row,
                       "reason": found.reason.value, "score": found.score,
                       "name_score": found.name_score, "address_score": found.address_score})
    pid = stored.prospect_of[prospect_key] if prospect_key is not None else None
    first_link = clustering.links.get(row_keys[0]) if row_keys else None
    return _Group(
        rows=mine, combined=combined or ListRow(row=0, name="", district=""), prospect_id=pid,
        is_new=pid is None, link=link, moved=pid is not None and combined is not None
        and stored.values[pid]["district"] != combined.district, merged=merged,
        first_link=(first_link.reason.value, first_link.score) if first_link else None)


# ---------------------------------------------------------------------------------------------
# The import
# ---------------------------------------------------------------------------------------------


def import_list(session: Session, *, data: bytes, filename: str, actor: str,
                now: datetime) -> ImportReport:
    """Import a list file; see the module docstring. Raises ``ValidationFailed`` (code
    ``list_unreadable``) before writing anything when the file cannot be read at all."""
    sheet, layout = _choose_sheet(read_list(data, filename=filename))
    table = parse_table(sheet.rows, layout)
    lock_for_append(session, "prospects")  # one import at a time (PostgreSQL)
    stored = _stored(session)
    base = len(stored.records)
    clustering: Clustering = cluster(
        [*stored.records, *(_row_record(base + i, r) for i, r in enumerate(table.rows))])

    batch = ListImportRow(filename=filename[:255], file_sm3=hashlib.new("sm3", data).hexdigest(),
                          imported_at=now, imported_by=actor, read=table.read, new=0, updated=0,
                          merged=0, refused=len(table.refused), report={},
                          matching_version=MATCHING_VERSION)
    session.add(batch)
    session.flush()

    groups = [_resolve(group, base=base, stored=stored, rows=table.rows,
                       clustering=clustering) for group in clustering.groups]
    new = [g for g in groups if g.rows and g.is_new]
    planned, assignment = plan_assignments(session, [
        _candidate(i, g, stored) for i, g in enumerate(new)], now=now)
    if new:
        blank = dict.fromkeys(_LINK_COLUMNS) | {"sub_branch_code": None,
                                                "client_manager_id": None,
                                                "assigned_at": None, "assignment": {}}
        columns = {"first_import_id": batch.id, "created_at": now, "updated_at": now,
                   "do_not_contact": False}
        insert_rows(session, _prospects, [
            _fields(g.combined) | blank | g.link | planned.get(i, {}) | columns
            | {"first_row": g.rows[0].row} for i, g in enumerate(new)])
        # ids by first row (unique within an import): one query costs less than RETURNING
        # over an executemany
        ids = dict(session.execute(select(ProspectRow.first_row, ProspectRow.id).where(
            ProspectRow.first_import_id == batch.id)).tuples().all())
        for g in new:
            g.prospect_id = ids[g.rows[0].row]
    updated = [g for g in groups if g.rows and not g.is_new]
    changed = []
    for g in updated:
        assert g.prospect_id is not None
        before = stored.values[g.prospect_id]
        after = _refreshed(before, g)
        if after != before:
            changed.append({"id": g.prospect_id, **after, "updated_at": now})
    late_links = [{"id": g.prospect_id, **g.link} for g in groups if not g.rows and g.link]
    for values in (changed, late_links):
        if values:
            session.execute(update(ProspectRow), values)
    matches = [m for g in groups for m in g.matches()]
    matches.extend({"sheet_row": i.row, "outcome": "refused", "prospect_id": None,
                    "reason": i.code, "score": None, "into_row": None, "details": i.as_dict()}
                   for i in table.refused)
    if matches:
        insert_rows(session, cast(Table, ProspectMatchRow.__table__),
                    [{"import_id": batch.id, **m} for m in matches])
    merges = [m["details"] for m in matches if m["outcome"] == "merged"]
    moved = [g.prospect_id for g in updated if g.moved and g.prospect_id is not None]
    later = assign_prospects(session, now=now, reassign=moved)
    report = ImportReport(
        import_id=batch.id, filename=filename, sheet=sheet.name,
        header_rows=[i + 1 for i in layout.header_rows], read=table.read, new=len(new),
        updated=len(updated), merged=len(merges), refused=table.refused,
        warnings=table.warnings, merges=merges, skipped=table.skipped,
        linked=_linked_counts(session, batch.id), changed=len(changed),
        assigned=assignment.assigned + later.assigned)
    batch.new, batch.updated, batch.merged = report.new, report.updated, report.merged
    batch.report = report.as_dict()
    audit(session, at=now, actor=actor, action="marketing.import", target=f"list_import:{batch.id}",
          details={"file": filename, "file_sm3": batch.file_sm3, "read": report.read,
                   "new": report.new, "updated": report.updated, "merged": report.merged,
                   "refused": len(report.refused), "warnings": len(report.warnings),
                   "matching_version": MATCHING_VERSION})
    return report


def _linked_counts(session: Session, import_id: int) -> dict[str, int]:
    """How many of this import's prospects the bank already knows: as institutions of the
    gateway, with cases, with loans drawn."""
    codes = select(ProspectRow.institution_code).join(
        ProspectMatchRow, ProspectMatchRow.prospect_id == ProspectRow.id).where(
        ProspectMatchRow.import_id == import_id, ProspectMatchRow.outcome.in_(("new", "updated")),
        ProspectRow.institution_code.is_not(None))
    institutions = len(session.scalars(codes).all())
    cases = session.execute(select(CaseRow.fixmedins_code, CaseRow.loan_drawn).where(
        CaseRow.fixmedins_code.in_(codes))).all()
    return {"institutions": institutions, "cases": len({c for c, _ in cases}),
            "loans": len({c for c, drawn in cases if drawn is not None})}


def _candidate(key: int, group: _Group, stored: _Stored) -> Candidate:
    row = group.combined
    lat, lon = row.latitude, row.longitude
    if lat is None and group.link:
        lat, lon = stored.places[group.link["institution_code"]]
    return Candidate(key, row.district, lat, lon, do_not_contact=False)
