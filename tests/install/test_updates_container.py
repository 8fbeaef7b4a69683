"""Updates on a station installed as it will run (systemd in a Debian 12 container): a signed
bundle with a migration is installed and passes its health gate; a bundle that cannot reach the
ILS by design goes back by itself with the database as before; a bundle signed by nobody trusted
is refused; a kill -9 and a power off at each step leave a station on one version or the other."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.db.engine import head_revision
from bronco.release import SKIP, build
from station_core.release_bundle import new_key_pair, sign_bundle
from tests.conftest import ROOT, free_port, start_demo_ils, stop, wait_http
from tests.install.container import Container
from tests.install.test_install_container import ARCH, checkout, install_profile, qemu_user_drop_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(2400),
    pytest.mark.skipif(shutil.which("systemd-nspawn") is None or shutil.which("mmdebstrap") is None,
                       reason="needs systemd-container and mmdebstrap (scripts/run-tests installs them)"),
]
# The test releases' own migrations, on top of whatever this tree's newest one is.
HEAD = head_revision()
FIRST_PROBE, SECOND_PROBE = "probe1", "probe2"
MIGRATION = '''"""a table only this test's release has

Revision ID: {rev}
Revises: {down}
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("update_probe_{rev}", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("update_probe_{rev}")
'''


def release_of(work: Path, version: str, *, migrations: tuple[tuple[str, str], ...] = (),
               no_ils: bool = False, key: bytes) -> Path:
    """A signed bundle of this project as version `version`, changed as asked."""
    tree = work / f"src-{version}"
    shutil.copytree(ROOT, tree, ignore=SKIP)
    init = tree / "station_core/__init__.py"
    init.write_text(init.read_text().replace('__version__ = "0.1.0"', f'__version__ = "{version}"'))
    for rev, down in migrations:
        (tree / f"bridge/db/migrations/versions/{rev}_update_probe.py").write_text(
            MIGRATION.format(rev=rev, down=down))
    if no_ils:  # a release that cannot reach the ILS, by design
        connect = tree / "ils/connect.py"
        connect.write_text(connect.read_text().replace(
            "    return Sip2Adapter(sip2_settings(profile))",
            '    profile = profile.model_copy(update={"ils": profile.ils.model_copy(update={"port": 9})})\n'
            "    return Sip2Adapter(sip2_settings(profile))"))
    path = build(tree, work / "dist", min_from="0.1.0")
    sign_bundle(path, key)
    return path


class Fleet:
    def __init__(self, machine: Container, url: str, bundles: dict[str, Path]) -> None:
        self.machine, self.url, self.bundles = machine, url, bundles

    def apply(self, name: str, gate_s: int = 90, **env: str) -> tuple[int, dict]:
        inside = f"/root/{self.bundles[name].name}"
        shutil.copy(self.bundles[name], self.machine.directory / inside.lstrip("/"))
        res = self.machine.run("bronco", "update", "apply", inside, "--gate-s", str(gate_s),
                               env=env, check=False, timeout_s=900)
        lines = [line for line in res.stdout.splitlines() if line.startswith("{")]
        return res.returncode, (json.loads(lines[-1]) if lines else {"output": res.stdout + res.stderr})

    def version(self) -> str:
        wait_http(f"{self.url}/healthz", timeout_s=120)
        import httpx

        return httpx.get(f"{self.url}/healthz", timeout=10).json()["version"]

    def tables(self) -> str:
        return self.machine.run("sqlite3", "/var/lib/bronco/station.db",
                                "select version_num from alembic_version").stdout.strip()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    work = tmp_path_factory.mktemp("updates")
    private, public = new_key_pair()
    stranger, _ = new_key_pair()
    bundles = {
        "good": release_of(work / "good", "0.2.0", migrations=((FIRST_PROBE, HEAD),), key=private),
        "no-ils": release_of(work / "no-ils", "0.3.0",
                             migrations=((FIRST_PROBE, HEAD), (SECOND_PROBE, FIRST_PROBE)),
                             no_ils=True, key=private),
        "later": release_of(work / "later", "0.4.0", migrations=((FIRST_PROBE, HEAD),), key=private),
        "stranger": release_of(work / "stranger", "0.5.0", key=stranger),
    }
    ils = start_demo_ils(work)
    port = free_port()
    machine = Container.fresh(work, ARCH)
    (machine.directory / "root/profile.toml").write_text(install_profile(ils.port, port))
    (machine.directory / "etc/bronco/release-keys").mkdir(parents=True)
    (machine.directory / "etc/bronco/release-keys/library.pub").write_bytes(public)
    (machine.directory / "etc/bronco/station.env").write_text("BRONCO_ILS_PASSWORD=demo\n")
    if ARCH != "amd64":
        qemu_user_drop_in(machine.directory)
    machine.boot()
    try:
        machine.run("/root/bronco-src/scripts/install-station", "--profile", "/root/profile.toml",
                    timeout_s=1200)
        yield Fleet(machine, f"http://127.0.0.1:{port}", bundles)
    finally:
        machine.stop()
        stop(ils.proc)


def test_a_signed_bundle_is_installed_migrated_and_passes_its_gate(fleet: Fleet) -> None:
    assert fleet.version() == "0.1.0"
    code, outcome = fleet.apply("good")
    assert code == 0 and outcome["result"] == "installed", outcome
    assert fleet.machine.run("readlink", "/opt/bronco/current").stdout.strip() == "releases/0.2.0"
    assert fleet.version() == "0.2.0"
    assert fleet.tables() == FIRST_PROBE  # its migration ran
    lent = checkout(fleet.url, "3100002009")
    assert lent["ok"] is True, str(lent)
    # The release before is kept for going back; the database copy from before is there.
    assert fleet.machine.run("test", "-f", "/var/lib/bronco/backups/before-0.2.0.db",
                             check=False).returncode == 0


def test_a_bundle_that_fails_its_gate_goes_back_with_the_database_as_before(fleet: Fleet) -> None:
    code, outcome = fleet.apply("no-ils", gate_s=40)
    assert code == 1 and outcome["result"] == "rolled_back", outcome
    assert "ILS" in outcome["reason"] and outcome["database_restored"] is True
    assert fleet.machine.run("readlink", "/opt/bronco/current").stdout.strip() == "releases/0.2.0"
    assert fleet.version() == "0.2.0"
    assert fleet.tables() == FIRST_PROBE  # 0.3.0's second migration is undone with the copy
    assert checkout(fleet.url, "3100002004")["ok"] is True


def test_a_bundle_no_trusted_key_signed_is_refused_and_nothing_changes(fleet: Fleet) -> None:
    code, outcome = fleet.apply("stranger")
    assert code == 2 and outcome["result"] == "refused"
    assert "release key" in outcome["reason"]
    assert fleet.machine.run("test", "-e", "/opt/bronco/releases/0.5.0", check=False).returncode != 0
    assert fleet.version() == "0.2.0"


STEPS = ["unpacking", "backing_up", "switching", "gating"]


@pytest.mark.parametrize("step", STEPS)
def test_kill_9_and_power_off_at_each_step_leave_one_version_or_the_other(fleet: Fleet, step: str) -> None:
    before = fleet.version()
    code, _ = fleet.apply("later", BRONCO_UPDATE_CRASH_AT=step)
    assert code != 0  # killed
    fleet.machine.stop()  # the power goes off
    fleet.machine.boot()
    version = fleet.version()
    assert version in (before, "0.4.0")
    # Stopped before its gate passed: the station is back on the version it ran.
    assert version == before
    lent = checkout(fleet.url, f"31000020{10 + STEPS.index(step)}")
    assert lent["ok"] is True, str(lent)


def test_after_the_interruptions_the_update_still_installs(fleet: Fleet) -> None:
    code, outcome = fleet.apply("later")
    assert code == 0 and outcome["result"] == "installed", outcome
    assert fleet.version() == "0.4.0"
