"""The hub's profile (HUB.toml): where its database is and where it listens."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class HubSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database_url: str = Field(
        description="postgresql://user@host/db (psycopg 3); sqlite:///file only for a one-machine "
                    "trial")
    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=1, le=65535)


class HubProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hub: HubSettings


def load_hub_profile(path: Path) -> HubProfile:
    return HubProfile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
