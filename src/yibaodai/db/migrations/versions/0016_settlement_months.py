"""settlement months

* ``settlement_months``: each institution's daily settlement facts summed by calendar month
  (``YYYY-MM``), with the month's last settlement day. Ingestion keeps it in the same
  transaction as the daily rows; the institution view reads it instead of the daily rows.
* Filled here from the daily facts already stored (one grouped INSERT ... SELECT).

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-02 01:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yibaodai.db.types

revision: str = '0016'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SUMS = ("setl_cnt", "refd_setl_cnt", "medfee_sumamt_fen", "fund_pay_sumamt_fen",
         "hifp_pay_fen", "acct_pay_fen", "psn_cash_pay_fen")


def upgrade() -> None:
    op.create_table(
        'settlement_months',
        sa.Column('fixmedins_code', sa.String(length=12), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('setl_cnt', sa.Integer(), nullable=False),
        sa.Column('refd_setl_cnt', sa.Integer(), nullable=False),
        sa.Column('medfee_sumamt_fen', yibaodai.db.types.Money(), nullable=False),
        sa.Column('fund_pay_sumamt_fen', yibaodai.db.types.Money(), nullable=False),
        sa.Column('hifp_pay_fen', yibaodai.db.types.Money(), nullable=False),
        sa.Column('acct_pay_fen', yibaodai.db.types.Money(), nullable=False),
        sa.Column('psn_cash_pay_fen', yibaodai.db.types.Money(), nullable=False),
        sa.Column('last_setl_date', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('fixmedins_code', 'month', name=op.f('pk_settlement_months')),
    )
    month = ("to_char(setl_date, 'YYYY-MM')" if op.get_bind().dialect.name == "postgresql"
             else "strftime('%Y-%m', setl_date)")
    sums = ", ".join(f"sum({c})" for c in _SUMS)
    op.execute(
        f"INSERT INTO settlement_months (fixmedins_code, month, {', '.join(_SUMS)}, "
        f"last_setl_date) SELECT fixmedins_code, {month}, {sums}, max(setl_date) "
        f"FROM settlement_facts GROUP BY fixmedins_code, {month}")


def downgrade() -> None:
    op.drop_table('settlement_months')
