"""The touchscreen kiosk. Screens are thin kv files; logic lives in plain-Python view-models."""
