"""The container checks. Installing (and the setup page) runs in the test suite; updates - a
kill -9 and a power off at every step, and a hub rollout over two stations - take several minutes
each, so they run in `scripts/check-updates` (BRONCO_CONTAINER_UPDATES=1), as the arm64 check
runs in `scripts/check-arm64`."""

from __future__ import annotations

import os

collect_ignore = []
if os.environ.get("BRONCO_CONTAINER_UPDATES") != "1":
    collect_ignore += ["test_updates_container.py", "test_rollout_containers.py"]
