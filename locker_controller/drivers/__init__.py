"""Lock-board drivers, chosen by name through station_core.registry."""
