"""SQL the read side writes by hand agrees with the Python it mirrors, on both backends."""

from __future__ import annotations

from datetime import datetime
from itertools import product

from sqlalchemy import select

from yibaodai.admission.service import segment_of
from yibaodai.clock import SHANGHAI
from yibaodai.db.models import InstitutionRow
from yibaodai.db.session import Database
from yibaodai.reports.cases import HOSPITAL_LEVELS, segment_expr


def test_the_sql_institution_type_is_the_admission_segment(db: Database) -> None:
    kinds = product(("1", "2", "3", "4", "5", None), (*HOSPITAL_LEVELS, "未定级", "", None))
    with db.unit_of_work() as s:
        for n, (kind, level) in enumerate(kinds):
            s.add(InstitutionRow(fixmedins_code=f"H{n:011d}", fixmedins_name="x", uscc="u",
                                 fixmedins_type=kind, hosp_lv=level,
                                 updated_at=datetime(2026, 9, 1, tzinfo=SHANGHAI)))
        s.flush()
        rows = s.execute(select(InstitutionRow, segment_expr())).all()
        assert len(rows) == 6 * 6
        assert [sql for _, sql in rows] == [segment_of(i) for i, _ in rows]
