"""The station's hold on its devices: one owner per reader or board that opens it, watches its
health and reopens it, and the HTTP control of simulated devices for the demo and tests.
"""
