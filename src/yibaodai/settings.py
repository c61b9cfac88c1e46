"""Configuration from the environment (prefix ``YIBAODAI_``). Fails fast on unsafe values."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from yibaodai.errors import ConfigurationError

DEMO_SECRET = "demo-only-secret-change-me-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIBAODAI_", extra="ignore")

    database_url: str = "sqlite:///var/yibaodai.db"
    var_dir: Path = Path("var")
    secret_key: SecretStr = SecretStr(DEMO_SECRET)
    demo_mode: bool = True
    #: Maximum accepted request body at the gateway, in bytes.
    max_body_bytes: int = 8 * 1024 * 1024
    #: How far a message's ``inf_time`` may be from the bank's clock, in seconds.
    timestamp_window_seconds: int = 300
    #: The bank's chain keys (HMAC-SM3 keys of the audit, archive and case-event chains);
    #: default ``<keys_dir>/bank.chain-keys.json``. Created on first use in demo mode only.
    chain_keys_file: Path | None = None

    def check(self) -> Settings:
        if not self.demo_mode and self.secret_key.get_secret_value() == DEMO_SECRET:
            raise ConfigurationError(
                "生产模式不得使用演示密钥，请设置 YIBAODAI_SECRET_KEY",
                "the demo secret may not be used outside demo mode; set YIBAODAI_SECRET_KEY",
                code="unsafe_secret",
            )
        return self

    @property
    def keys_dir(self) -> Path:
        return self.var_dir / "keys"

    @property
    def chain_keys_path(self) -> Path:
        return self.chain_keys_file or self.keys_dir / "bank.chain-keys.json"


def load_settings() -> Settings:
    return Settings().check()
