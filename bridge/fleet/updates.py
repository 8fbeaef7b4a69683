"""A rollout's update on the station's side. The station (an unprivileged, sandboxed service)
fetches the bundle from the hub with its token - resuming a cut download with a Range request -
checks the size and hash the hub gave, then the signature against its own trusted keys (the hub is
not trusted to have checked it), and leaves a request for `bronco-update.service` (root, started
by a path unit) to install it. The outcome that service writes is reported to the hub as an
`update` event by whichever version runs next."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import httpx

from station_core.durable_files import write_durably
from station_core.release_bundle import BundleRefused, trusted_keys, verify

log = logging.getLogger(__name__)
REQUEST, RESULT = "request.json", "result.json"


class Updates:
    def __init__(self, folder: Path, keys: Path, installed: str) -> None:
        self.folder, self.keys, self.installed = folder, keys, installed

    async def fetch(self, client: httpx.AsyncClient, args: dict[str, Any]) -> dict[str, Any]:
        """The `update` command: download, check, and ask for the install."""
        version, digest = str(args["version"]), str(args["sha256"])
        size, release = int(args["size"]), int(args["release"])
        if not version.replace(".", "").isalnum() or len(digest) != 64:
            raise ValueError("not a release")
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f"{digest}.partial"
        have = partial.stat().st_size if partial.exists() else 0
        if have < size:
            headers = {"Range": f"bytes={have}-"} if have else {}
            async with client.stream("GET", f"/api/v1/fleet/releases/{release}/bundle",
                                     headers=headers, timeout=600) as reply:
                if reply.status_code not in (200, 206):
                    raise ValueError(f"the hub did not give the bundle ({reply.status_code})")
                mode = "ab" if reply.status_code == 206 else "wb"
                with partial.open(mode) as out:
                    async for chunk in reply.aiter_bytes(1 << 20):
                        out.write(chunk)
        if partial.stat().st_size != size:
            raise ValueError(f"the bundle is {partial.stat().st_size} bytes, not {size}: try again")
        actual = hashlib.sha256(partial.read_bytes()).hexdigest()
        if actual != digest:
            partial.unlink()
            raise ValueError("the bundle does not match the hub's hash: downloaded again next time")
        bundle = self.folder / f"bronco-station-{version}.tar"
        os.replace(partial, bundle)
        try:
            verify(bundle, trusted_keys(self.keys), installed=self.installed)
        except BundleRefused as exc:
            bundle.unlink()
            self._result({"rollout": int(args["rollout"]), "version": version, "result": "refused",
                          "reason": str(exc)})
            raise ValueError(f"refused: {exc}") from None
        write_durably(self.folder / REQUEST, json.dumps(
            {"bundle": str(bundle), "rollout": int(args["rollout"]), "version": version}).encode())
        return {"downloaded": version, "bytes": size}

    def _result(self, result: dict[str, Any]) -> None:
        write_durably(self.folder / RESULT, json.dumps(result).encode())

    def take_result(self) -> dict[str, Any] | None:
        """An outcome not yet reported (then it is marked reported)."""
        path = self.folder / RESULT
        try:
            result = dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            return None
        os.replace(path, self.folder / "result.reported.json")
        return result
