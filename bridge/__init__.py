"""The station service: owns every device and the database, serves the kiosk and staff API."""
