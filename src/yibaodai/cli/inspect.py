"""``yibaodai inspect``: stored records of one institution."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlalchemy import func, select

from yibaodai.bootstrap import open_database
from yibaodai.cli._app import app, emit
from yibaodai.settings import load_settings

inspect_app = typer.Typer(help="Look at stored records.", no_args_is_help=True)
app.add_typer(inspect_app, name="inspect")


@inspect_app.command("institution")
def inspect_institution(code: str, as_json: Annotated[bool, typer.Option("--json")] = False
                        ) -> None:
    """Authorization state, settlement rows, latest decision and case state of CODE."""
    from yibaodai.db.models import (
        AuthorizationRow,
        CaseRow,
        DecisionRow,
        InstitutionRow,
        SettlementFactRow,
    )

    db = open_database(load_settings())
    with db.unit_of_work() as s:
        inst = s.get(InstitutionRow, code)
        auths = s.scalars(select(AuthorizationRow).where(
            AuthorizationRow.fixmedins_code == code).order_by(AuthorizationRow.id)).all()
        if inst is None and not auths:
            typer.echo(f"no institution {code}", err=True)
            raise typer.Exit(1)
        decision = s.scalars(select(DecisionRow).where(DecisionRow.fixmedins_code == code)
                             .order_by(DecisionRow.id.desc())).first()
        case = s.scalars(select(CaseRow).where(CaseRow.fixmedins_code == code)
                         .order_by(CaseRow.id.desc())).first()
        data = {
            "fixmedins_code": code,
            "fixmedins_name": inst.fixmedins_name if inst else None,
            "authorization": {
                "state": ("revoked" if auths and auths[-1].revoked_at else
                          "granted" if auths else "none"),
                "auth_no": auths[-1].auth_no if auths else None,
                "scope": auths[-1].auth_scope if auths else [],
            },
            "settlement_fact_rows": s.scalar(select(func.count()).select_from(
                SettlementFactRow).where(SettlementFactRow.fixmedins_code == code)),
            "latest_decision": None if decision is None else {
                "id": decision.id, "result": decision.result,
                "credit_limit": str(decision.credit_limit), "reasons": decision.reasons,
                "rule_version": decision.rule_version},
            "case": None if case is None else {
                "id": case.id, "state": case.state, "sub_branch": case.sub_branch_code,
                "loan_status": case.loan_status},
        }
    db.dispose()
    if as_json:
        emit(data)
    else:
        for key, value in data.items():
            typer.echo(f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}")
