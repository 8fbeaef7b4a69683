"""Who may do what: staff accounts and tokens, kiosk enrolment, card taps, PINs and the
limits on guessing them, hashing, the station key, TLS, and keeping unauthenticated tables small.
"""
