"""Settings fail fast on unsafe values."""

from __future__ import annotations

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
