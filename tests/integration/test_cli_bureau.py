"""`yibaodai bureau send`: a plain envelope signed, encrypted and posted as the bureau would."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import Installation
from tests.support.flow import city
from yibaodai.cli import app
from yibaodai.clock import SystemClock
from yibaodai.db.models import AuthorizationRow
from yibaodai.sim.server import ServerThread


def test_bureau_send_signs_posts_and_prints_the_answer(
        installation: Installation, bank_server: ServerThread, tmp_path: Path) -> None:
    installation.clock.set(SystemClock().now())  # the command signs with the wall clock
    inst = city(20)[0]
    today = installation.clock.today()
    plain = {"infno": "8101", "fixmedins_code": inst.fixmedins_code,
             "fixmedins_name": inst.fixmedins_name, "input": {"data": [{
                 "fixmedins_code": inst.fixmedins_code, "fixmedins_name": inst.fixmedins_name,
                 "uscc": inst.uscc, "auth_no": "AUTH-CLI-1", "auth_scope": ["settlement"],
                 "begndate": today.isoformat(),
                 "enddate": (today + timedelta(days=365)).isoformat()}]}}
    file = tmp_path / "grant.json"
    file.write_text(json.dumps(plain, ensure_ascii=False), encoding="utf-8")
    args = ["bureau", "send", str(file), "--url", f"{bank_server.url}/fsi/api/bank/callService",
            "--keys", str(installation.settings.keys_dir)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["infcode"] == 0
    with installation.bank.db.unit_of_work() as s:
        assert s.scalars(select(AuthorizationRow.auth_no)).all() == ["AUTH-CLI-1"]
    again = CliRunner().invoke(app, [*args, "--seq", "2"])  # a new msgid, same auth_no
    assert again.exit_code == 1
    assert json.loads(again.stdout)["infcode"] != 0
