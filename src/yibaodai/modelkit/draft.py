"""A draft built in the platform: a development sample (the observations CSV that
``yibaodai model sample`` writes — the simulated history, or the bank's own) is built into a
scorecard with the options the department manager chose, validated on that sample, and
exported as a new version by the signed-in user, its build and validation reports attached.

It is the command line's ``build`` → ``validate`` → ``export`` in one transaction, with the
same refusals: a file that is not such a sample, or one with too few labelled rows or bads to
bin and fit, changes nothing and says which field is wrong. Submitting (``submit``) is the
maker's move; approval and activation stay with the checker (``domain.model_version``).
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from yibaodai.admission.versions import active_version, load_version
from yibaodai.errors import FieldError, ValidationFailed
from yibaodai.modelkit import samples, validation
from yibaodai.modelkit.build import BuildParams, build
from yibaodai.modelkit.export import export_version

#: Fewer labelled rows or bads than this cannot be binned and fitted with any confidence.
MIN_ROWS = 200
MIN_BADS = 20


def _refuse(zh: str, en: str) -> ValidationFailed:
    return ValidationFailed("开发样本不能用于建模", "the development sample cannot be used",
                            code="invalid_sample", fields=[FieldError("sample", zh, en)])


def read_sample(data: bytes) -> list[samples.Observation]:
    """The observations of an uploaded CSV (``samples.read_csv``, which refuses by line)."""
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse("文件不是 UTF-8 编码的 CSV", "the file is not UTF-8 CSV") from exc
    fd, name = tempfile.mkstemp(suffix=".csv", prefix="yb-sample-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return samples.read_csv(Path(name))
    finally:
        os.unlink(name)


def build_draft(session: Session, *, data: bytes, params: BuildParams, username: str,
                now: datetime, base_id: int | None = None, label: str | None = None,
                submit: bool = False) -> int:
    """Build, validate and export; the new version's id (nothing written on a refusal)."""
    rows = read_sample(data)
    base = load_version(session, base_id) if base_id is not None else \
        active_version(session, now)
    policy = base.model.policy
    table = samples.observation_table(rows, policy=policy)
    bads = int(table.target.sum()) if len(table) else 0
    if len(table) < MIN_ROWS or bads < MIN_BADS or bads == len(table):
        raise _refuse(f"有结果且通过准入规则的样本 {len(table)} 行（坏样本 {bads}），至少需要 "
                      f"{MIN_ROWS} 行、{MIN_BADS} 个坏样本",
                      f"{len(table)} labelled rows past the knock-outs ({bads} bad); at least "
                      f"{MIN_ROWS} rows and {MIN_BADS} bads are needed")
    recent = samples.recent_population(rows, policy=policy)
    report = build(table, params=params, source=f"platform upload ({len(rows)} rows)",
                   recent=recent if len(recent) else None)
    checked = validation.validate(report, sample=table, recent=recent if len(recent) else None,
                                  subject="development sample (the build's own rows)")
    return export_version(session, build=report, username=username, now=now, base_id=base.id,
                          label=label, validation=checked, submit=submit)
