"""The station's side of the fleet hub: the outbox of events, the link that pushes them and
polls commands, the periodic status and desk view, and the commands the hub may send. It listens
to the event bus and reads the station; nothing here is needed to serve a patron.
"""
