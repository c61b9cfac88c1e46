"""Configuration from the environment (prefix ``YIBAODAI_``). Fails fast on unsafe values."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from yibaodai.domain.ews.handling import DEADLINE_WORKING_DAYS, deadline_days_errors
from yibaodai.errors import ConfigurationError

DEMO_SECRET = "demo-only-secret-change-me-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YIBAODAI_", extra="ignore")

    #: Default: the SQLite file ``<var_dir>/yibaodai.db``, so ``YIBAODAI_VAR_DIR`` moves the
    #: whole installation (database, keys, archive) and nothing is left in ``./var``.
    database_url: str = ""
    var_dir: Path = Path("var")
    secret_key: SecretStr = SecretStr(DEMO_SECRET)
    #: Off unless switched on explicitly (``YIBAODAI_DEMO_MODE=1``; ``yibaodai demo`` switches
    #: it on for its own run and server). Outside demo mode the demo secret is refused.
    demo_mode: bool = False
    #: Maximum accepted request body at the gateway, in bytes.
    max_body_bytes: int = 8 * 1024 * 1024
    #: Largest JSON body the staff API reads, and the ceiling on any other body, in bytes;
    #: bounded while the body is read (``web.edge.BodyLimit``). The ceiling stays above the
    #: routes' own upload limits (a marketing list: 20 MiB, refused beside its ``file`` field).
    api_json_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    api_upload_max_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    #: Refusals of unsigned (anonymous) messages stored per source address
    #: (``gateway.quarantine``; the ``limits`` library's notation).
    quarantine_rate: str = "20/minute"
    #: How far a message's ``inf_time`` may be from the bank's clock, in seconds.
    timestamp_window_seconds: int = 300
    #: The bank's chain keys (HMAC-SM3 keys of the audit, archive and case-event chains);
    #: default ``<keys_dir>/bank.chain-keys.json``. Created on first use in demo mode only.
    chain_keys_file: Path | None = None

    # -- the worker (``yibaodai worker``, or embedded in ``yibaodai serve``) ---------------
    #: Receiving endpoints of the bureau (8901 answers) and of head office (8501 whitelist
    #: entries). Required to run a worker that delivers the outbox.
    bureau_url: str | None = None
    head_office_url: str | None = None
    #: How often a worker looks for due outbox messages and deferred events, in seconds.
    dispatch_interval_seconds: float = Field(default=2.0, gt=0, le=3600)
    #: One delivery's HTTP timeout, and how long a worker's claim on a message holds (a
    #: worker that dies mid-send leaves the message to another after this). The claim must
    #: outlast the timeout, or a slow send could be taken over while it may still succeed.
    outbox_send_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    outbox_claim_seconds: float = Field(default=120.0, gt=0, le=3600)
    sla_sweep_interval_seconds: int = Field(default=300, ge=1)
    #: SLA policy (``docs/cases.md``): working days to claim an assigned case, working days
    #: from the claim to verify it, calendar days a late sub-branch gets no new cases.
    sla_claim_working_days: int = Field(default=2, ge=1, le=30)
    sla_verify_working_days: int = Field(default=2, ge=1, le=30)
    sla_penalty_days: int = Field(default=30, ge=1, le=365)
    #: The bank's holiday table (JSON ``{"2027-02-08": false, "2027-02-14": true, ...}``,
    #: ``true`` = working day) for years ``chinese_calendar`` does not cover yet.
    holidays_file: Path | None = None
    escalation_interval_seconds: int = Field(default=3600, ge=1)
    #: Working days an unhandled warning of each level may wait before it goes to the
    #: sub-branch department manager (twice as long: the branch). In the environment as JSON:
    #: ``YIBAODAI_WARNING_DEADLINE_DAYS='{"red": 1, "orange": 3, "yellow": 5, "blue": 10}'``.
    warning_deadline_days: dict[str, int] = Field(
        default_factory=lambda: dict(DEADLINE_WORKING_DAYS))
    #: External sources (``monitoring.sources``): the court-enforcement list's URL; unset:
    #: not consulted.
    court_source_url: str | None = None
    external_interval_seconds: int = Field(default=86400, ge=60)
    #: Monthly monitoring over every borrower: day of month (1-28) and hour (0-23).
    monitoring_day: int = Field(default=1, ge=1, le=28)
    monitoring_hour: int = Field(default=6, ge=0, le=23)
    #: Weekly retention: weekday (0 = Monday .. 6 = Sunday) and hour.
    retention_weekday: int = Field(default=6, ge=0, le=6)
    retention_hour: int = Field(default=2, ge=0, le=23)
    #: The retention job also prunes ``job_runs`` older than this many days (each job's last
    #: run of each outcome stays, whatever its age).
    job_runs_keep_days: int = Field(default=90, ge=1)
    #: How long a worker holds a job's lease before another may take it over.
    job_lease_seconds: int = Field(default=900, ge=10)

    #: Browser sessions end after this long without a request, and this long after log-in.
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: int = Field(default=10, ge=1)
    #: Bearer tokens for machine clients (revocable; a password change revokes them).
    api_token_days: int = Field(default=90, ge=1)
    #: Send the session cookie with ``Secure`` even when a request arrives over plain HTTP
    #: (behind a TLS-terminating proxy that does not forward the scheme). HTTPS requests always
    #: get ``Secure``.
    cookie_secure: bool = False
    #: Failed log-ins allowed per user and per address within ``login_window_minutes``.
    login_failures_per_user: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    #: Masking rules for personal identifiers (JSON, see ``reports/masking.py``); the
    #: packaged ``data/masking.json`` when unset. The compliance office owns this file.
    masking_file: Path | None = None

    @model_validator(mode="after")
    def _database_in_var_dir(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'yibaodai.db'}"
        bad = deadline_days_errors(self.warning_deadline_days)
        if bad:
            raise ConfigurationError(
                f"YIBAODAI_WARNING_DEADLINE_DAYS 有误：{'；'.join(bad)}",
                f"YIBAODAI_WARNING_DEADLINE_DAYS is wrong: {'; '.join(bad)}",
                code="warning_deadlines")
        return self

    @model_validator(mode="after")
    def _claim_outlasts_the_send(self) -> Settings:
        if self.outbox_claim_seconds <= self.outbox_send_timeout_seconds:
            raise ValueError("YIBAODAI_OUTBOX_CLAIM_SECONDS must exceed "
                             "YIBAODAI_OUTBOX_SEND_TIMEOUT_SECONDS")
        return self

    def check(self) -> Settings:
        if not self.demo_mode and self.secret_key.get_secret_value() == DEMO_SECRET:
            raise ConfigurationError(
                "生产模式不得使用演示密钥，请设置 YIBAODAI_SECRET_KEY",
                "the demo secret may not be used outside demo mode; set YIBAODAI_SECRET_KEY",
                code="unsafe_secret",
            )
        if not self.demo_mode and len(self.secret_key.get_secret_value()) < 32:
            raise ConfigurationError(
                "YIBAODAI_SECRET_KEY 至少32个字符", "YIBAODAI_SECRET_KEY needs at least 32 "
                "characters", code="weak_secret")
        return self

    def require_receivers(self) -> tuple[str, str]:
        """The bureau's and head office's URLs, or a clear refusal naming what is missing."""
        missing = [name for name, value in (("YIBAODAI_BUREAU_URL", self.bureau_url),
                                            ("YIBAODAI_HEAD_OFFICE_URL", self.head_office_url))
                   if not value]
        if missing or self.bureau_url is None or self.head_office_url is None:
            raise ConfigurationError(
                f"工作进程需要接收方地址，请设置 {'、'.join(missing)}（或使用 --no-worker）",
                f"a worker needs the receivers' URLs: set {', '.join(missing)} "
                "(or run with --no-worker)", code="receivers_missing")
        return self.bureau_url, self.head_office_url

    @property
    def keys_dir(self) -> Path:
        return self.var_dir / "keys"

    @property
    def chain_keys_path(self) -> Path:
        return self.chain_keys_file or self.keys_dir / "bank.chain-keys.json"


def load_settings() -> Settings:
    """Settings from the environment. Commands that serve (``yibaodai serve``, the app itself)
    also call :meth:`Settings.check`; offline commands (inspect, replay) do not need a secret."""
    return Settings()
