"""Benchmark: the model workbench's platform requests, timed in-process on SQLite (the work each
route does, without HTTP): building a draft from a development sample (``POST
/api/models/builds``: read the CSV, bin, select, fit, validate, export), then the validation
report (``GET .../validation``) and the monitoring (``GET .../monitoring``) of that version over
``--decisions`` live decisions spread over the last six months.

The sample is the simulated city's (``modelkit.simulated``); the live decisions are its recent
observations decided by the active version and stored as decisions are, repeated across the
months. Run from the repository root:

    .venv/bin/python -m bench.workbench_requests [--institutions 200] [--decisions 3000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from bench.common import machine_facts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--institutions", type=int, default=200)
    parser.add_argument("--snapshots", type=int, default=4)
    parser.add_argument("--decisions", type=int, default=3000)
    args = parser.parse_args()

    from yibaodai.admission.service import inputs_json
    from yibaodai.admission.versions import active_version
    from yibaodai.auth.passwords import use_cheapest_parameters_for_tests
    from yibaodai.auth.roles import Actor, Role
    from yibaodai.bootstrap import open_database, seed_demo_users, seed_organisation
    from yibaodai.clock import SHANGHAI
    from yibaodai.db.migrate import upgrade
    from yibaodai.db.models import DecisionRow, UserRow
    from yibaodai.domain.admission import decide
    from yibaodai.modelkit.build import BuildParams
    from yibaodai.modelkit.draft import build_draft
    from yibaodai.modelkit.samples import write_csv
    from yibaodai.modelkit.simulated import simulated_history
    from yibaodai.reports.workbench import monitoring_report, validation_report
    from yibaodai.settings import Settings

    use_cheapest_parameters_for_tests()  # staff accounts; not what is measured
    now = datetime(2026, 9, 1, 10, 0, tzinfo=SHANGHAI)
    labelled, recent = simulated_history(seed=2026, institutions=args.institutions,
                                         as_of=date(2026, 6, 30), snapshots=args.snapshots)
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "sample.csv"
        write_csv(sample, labelled + recent)
        url = f"sqlite:///{tmp}/bank.db"
        upgrade(url)
        db = open_database(Settings(database_url=url, var_dir=Path(tmp) / "var",
                                    demo_mode=True))
        with db.unit_of_work() as s:
            seed_organisation(s)
            seed_demo_users(s, seed=1)
            s.commit()
        out: dict[str, object] = {"sample_rows": len(labelled) + len(recent),
                                  "decisions": args.decisions}
        with db.unit_of_work() as s:
            started = time.perf_counter()
            vid = build_draft(s, data=sample.read_bytes(), params=BuildParams(),
                              username="mgr_dl001", now=now)
            s.commit()
            out["build_seconds"] = round(time.perf_counter() - started, 2)
            model = active_version(s, now)
            for k in range(args.decisions):
                inputs = recent[k % len(recent)].inputs
                outcome = decide(inputs, model.model)
                s.add(DecisionRow(
                    fixmedins_code=inputs.fixmedins_code, trigger="bench", result="admitted"
                    if outcome.admitted else "refused", credit_limit=outcome.credit_limit,
                    reasons=[], inputs=inputs_json(inputs), rule_version=model.label,
                    content_hash=f"{k:064d}", model_version_id=model.id, score=outcome.score,
                    decided_at=now - timedelta(days=1 + (k % 170), minutes=k % 600)))
            s.commit()
            gm = s.query(UserRow).filter_by(username="gm").one()
            actor = Actor(user_id=gm.id, username=gm.username, display_name=gm.display_name,
                          staff_no=gm.staff_no, role=Role(gm.role),
                          sub_branch_code=gm.sub_branch_code)
            for name, run in (("validation_seconds", lambda: validation_report(
                    s, version_id=vid, actor=actor, now=now, months=6)),
                              ("monitoring_seconds", lambda: monitoring_report(
                    s, version_id=vid, actor=actor, now=now, months=6))):
                started = time.perf_counter()
                run()
                out[name] = round(time.perf_counter() - started, 2)
        db.dispose()
    print(json.dumps({"results": out, "machine": machine_facts(
        packages=("optbinning", "scikit-learn", "pandas", "XlsxWriter"))}, indent=2))


if __name__ == "__main__":
    main()
