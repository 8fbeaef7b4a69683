"""The hub's profile (HUB.toml): where its database is and where it listens."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class HubSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database_url: str = Field(
        description="postgresql://user@host/db (psycopg 3); sqlite:///file only for a one-machine "
                    "trial")
    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=1, le=65535)
    timezone: str = Field(default="UTC", description="the library's zone, for days and hours")
    trusted_proxies: list[str] = Field(
        default_factory=list, max_length=20,
        description="addresses of reverse proxies whose X-Forwarded-For is believed; none: the "
                    "connection's own address counts (for the sign-in limits)")
    releases_dir: Path = Field(default=Path("releases"),
                               description="where uploaded release bundles are kept")
    tls_cert: Path | None = Field(default=None, description="serve HTTPS with this certificate")
    tls_key: Path | None = None
    allow_insecure_http: bool = Field(
        default=False, description="lab only: serve plain HTTP beyond loopback without a proxy")

    @model_validator(mode="after")
    def _https_beyond_loopback(self) -> HubSettings:
        """Station tokens, staff passwords and door commands cross the network: plain HTTP is for
        loopback, or behind an HTTPS proxy named in trusted_proxies."""
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("give tls_cert and tls_key together")
        loopback = self.host in ("localhost", "::1") or self.host.startswith("127.")
        if not (loopback or self.tls_cert or self.trusted_proxies or self.allow_insecure_http):
            raise ValueError("a hub listening beyond loopback serves HTTPS: set tls_cert and "
                             "tls_key, or put it behind an HTTPS proxy named in trusted_proxies "
                             "(allow_insecure_http = true for a lab only)")
        return self


class AlertSettings(BaseModel):
    """Who hears of trouble, and each threshold (docs/hub.md)."""

    model_config = ConfigDict(extra="forbid")

    email_to: list[str] = Field(default_factory=list, max_length=20)
    sender: str = "bronco-hub@localhost"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    webhook_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    every_s: float = Field(default=15.0, ge=0.2, le=600, description="how often rules are checked")
    station_offline_s: float = Field(default=180.0, ge=1)
    ils_offline_s: float = Field(default=300.0, ge=0)
    queue_exceptions: int = Field(default=1, ge=1, description="open exceptions that alert")
    oldest_queued_s: float = Field(default=3600.0, ge=1)
    holds_expiring: int = Field(default=1, ge=1, description="holds expiring within a day")
    wrong_codes_per_hour: int = Field(default=10, ge=1)
    large_checkout: int = Field(default=15, ge=2, description="items in one kiosk session")


class ConsoleSettings(BaseModel):
    """Sign-in to the hub console."""

    model_config = ConfigDict(extra="forbid")

    session_minutes: int = Field(default=480, ge=5, le=1440, description="a sign-in lasts at most")
    idle_minutes: int = Field(default=30, ge=1, le=480, description="and ends after this idle")
    login_free_failures: int = Field(
        default=4, ge=1, le=20,
        description="wrong passwords for one name (or from one address) before each next one waits")
    first_wait_s: float = Field(default=1.0, ge=0.5, le=300, description="the first such wait")
    lockout_minutes: int = Field(default=15, ge=1, le=1440, description="the longest such wait")


class HubProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hub: HubSettings
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)


def load_hub_profile(path: Path) -> HubProfile:
    return HubProfile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
