"""The consoles' shared look: the style sheet, the script helpers (the API call with the session's
CSRF token, messages, a door's cell, charts) and the vendored Chart.js. Served by the station's
console and by the hub's, so a desk moving between them sees one product."""

from pathlib import Path

LOOK = Path(__file__).parent
