"""The container checks. Installing runs in the test suite; the setup page (a second container
boot) and updates - a kill -9 and a power off at every step, and a hub rollout over two stations -
take minutes each, so they run in `scripts/check-updates` (BRONCO_CONTAINER_UPDATES=1), as the
arm64 check runs in `scripts/check-arm64`: the suite stays well under 30 minutes on 2 cores."""

from __future__ import annotations

import os

collect_ignore = []
if os.environ.get("BRONCO_CONTAINER_UPDATES") != "1":
    collect_ignore += ["test_updates_container.py", "test_rollout_containers.py",
                       "test_install_setup_page.py"]
