"""What staff read: statistics by hour, the charts, the monthly report, the library's calendar
of closures and short days, and staff's words for the reasons things were refused.
"""
