"""Settings fail fast on unsafe values."""

from __future__ import annotations

from pathlib import Path

import pytest

from yibaodai.errors import ConfigurationError
from yibaodai.settings import Settings


def test_outside_demo_mode_the_demo_secret_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="demo secret may not be used"):
        Settings(demo_mode=False).check()


def test_outside_demo_mode_a_real_secret_is_accepted_and_never_shown() -> None:
    vault = "s3cr3t-from-the-vault-0123456789abcdef"
    settings = Settings(demo_mode=False, secret_key=vault).check()  # type: ignore[arg-type]
    assert "s3cr3t" not in repr(settings)


def test_the_var_dir_moves_the_default_database_with_it(tmp_path: Path) -> None:
    moved = Settings(var_dir=tmp_path / "elsewhere")
    assert moved.database_url == f"sqlite:///{tmp_path / 'elsewhere' / 'yibaodai.db'}"
    assert Settings(var_dir=tmp_path, database_url="sqlite:///other.db").database_url \
        == "sqlite:///other.db"


def test_an_outbox_claim_that_would_expire_before_the_send_times_out_is_refused() -> None:
    with pytest.raises(ValueError, match="OUTBOX_CLAIM_SECONDS must exceed"):
        Settings(outbox_send_timeout_seconds=10, outbox_claim_seconds=10)
    assert Settings(outbox_send_timeout_seconds=2, outbox_claim_seconds=3).outbox_claim_seconds \
        == 3
