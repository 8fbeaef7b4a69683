"""The returns sorter: a conveyor from the return slot past diverters into bins, driven over
Modbus (docs/returns.md). Ground floor: imports nothing above it."""
