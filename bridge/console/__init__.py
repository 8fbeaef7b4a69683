"""The staff desk console: server-rendered pages with a little JavaScript over the staff API."""
