"""The tag programming station: what a tag holds, writing and verifying a library's data
model on the programming pad, and its statistics.
"""
