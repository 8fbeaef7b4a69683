"""What machine a figure came from, so figures from different machines are not compared."""

from __future__ import annotations

import os
import platform
from typing import Any


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()}", "machine": platform.machine(),
        "cpu": cpu, "cpus": os.cpu_count(),
    }
