"""The monthly report for the administration: one page of figures as PDF, the same figures as CSV,
made on demand and sent by email on the profile's day. Counts only: no patron, no item.

The page: the month's totals, notice-to-pickup times, locker utilisation per door size, device
loans, refusals by reason, and two charts (checkouts and returns by day and by hour of day).
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from babel.dates import format_date

from bridge.notices import Notifier
from bridge.reports.charts import SIZES, month_bounds
from bridge.reports.formatting import Formats
from bridge.reports.stats import Stats
from station_core.profile import Profile
from station_core.vocabulary import BOOK_DROP_PROBLEMS, METRIC_LABELS, REFUSAL_LABELS

log = logging.getLogger(__name__)
SENT_SETTING = "monthly_report_sent"  # the last month sent, "YYYY-MM"
GREEN, GOLD = "#1e4d2b", "#8a5a00"


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            moment = datetime.strptime(text, "%Y-%m")
        except ValueError:
            raise ValueError("a month is written YYYY-MM") from None
        if not 2000 <= moment.year <= 2200:  # year 1 fell off the calendar (a 500 before)
            raise ValueError("a month between 2000-01 and 2200-12")
        return cls(moment.year, moment.month)

    @classmethod
    def before(cls, day: date) -> Month:
        last = day.replace(day=1) - timedelta(days=1)
        return cls(last.year, last.month)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def bounds(self) -> tuple[date, date]:
        return month_bounds(self.year, self.month)


def _title(profile: Profile, month: Month, fmt: Formats) -> str:
    first, _ = month.bounds()
    name = format_date(first, "LLLL y", locale=fmt.locale)
    library = profile.notices.library_name
    station = profile.station.name or profile.station.id
    return f"{library} · {station}: self-service in {name}"


def _figures(report: dict[str, Any], fmt: Formats,
             bins: dict[int, str] | None = None) -> list[tuple[str, str]]:
    rows = [(METRIC_LABELS[m], fmt.number(v)) for m, v in report["totals"].items()]
    pickup = report["pickup"]
    rows += [("Time from notice to pickup, median", fmt.duration(pickup["median_s"], empty="no pickups")),
             ("Time from notice to pickup, 90th percentile",
              fmt.duration(pickup["p90_s"], empty="no pickups")),
             ("Locker utilisation", fmt.percent(report["utilisation"]["overall"], empty="no doors used"))]
    rows += [(f"  {size} doors", fmt.percent(report["utilisation"]["by_size"][size]))
             for size in SIZES if report["utilisation"]["by_size"][size] is not None]
    rows += [(f"Loans of {kind}", f"{fig['loans']} ({fmt.percent(fig['utilisation'])} of the time out)")
             for kind, fig in report["devices"].items()]
    rows += [(f"Refused: {REFUSAL_LABELS.get(r, r)}", fmt.number(n)) for r, n in report["refused"].items()]
    drop = report["book_drop"]
    names = bins or {}
    rows += [(f"Book drop into {names.get(bin_k, f'bin {bin_k}')}", fmt.number(n))
             for bin_k, n in drop["bins"].items()]
    rows += [(f"Book drop problem: {BOOK_DROP_PROBLEMS.get(code, code)}", fmt.number(n))
             for code, n in drop["problems"].items()]
    return rows


def _bars(title: str, labels: list[str], series: list[list[float]], width: float, height: float) -> Any:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    drawing = Drawing(width, height)
    drawing.add(String(0, height - 12, title, fontName="Helvetica-Bold", fontSize=10))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30, 28, width - 40, height - 52
    chart.data = [tuple(values) for values in series]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 45 if len(labels) > 12 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 12 else "n"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 7
    top = max([v for values in series for v in values] + [1])
    chart.valueAxis.valueMax = top
    chart.valueAxis.valueStep = max(1, round(top / 4))
    for index, colour in enumerate((GREEN, GOLD)[:len(series)]):
        chart.bars[index].fillColor = colors.HexColor(colour)
        chart.bars[index].strokeColor = None
    drawing.add(chart)
    return drawing


def build_pdf(profile: Profile, stats: Stats, month: Month) -> bytes:
    """One page (A4 or Letter by the locale's country): figures on the left, charts below."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, LETTER
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    fmt = Formats(profile.station.locale)
    first, last = month.bounds()
    report = stats.report(first, last)
    page = LETTER if profile.station.locale.endswith(("_US", "_CA")) else A4
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=page, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=14 * mm, bottomMargin=12 * mm,
                            title=_title(profile, month, fmt), author="Bronco Station")
    styles = getSampleStyleSheet()
    width = page[0] - 30 * mm
    bin_names = {rule.bin: rule.name for rule in profile.returns.bins}
    figures = Table(_figures(report, fmt, bin_names), colWidths=[width * 0.62, width * 0.38])
    figures.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), "Helvetica", 9), ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
    days = report["days"]
    by_day = [[report["by_day"][d].get(m, 0) for d in days] for m in ("checkouts", "returns")]
    by_hour = [[report["by_hour"][h].get(m, 0) for h in range(24)] for m in ("checkouts", "returns")]
    story = [
        Paragraph(_title(profile, month, fmt), styles["Title"]),
        Paragraph(f"{fmt.day(first)} to {fmt.day(last)}. Counts only: no patron is named. "
                  "Green: checkouts; gold: returns.", styles["Normal"]),
        Spacer(0, 3 * mm), figures, Spacer(0, 3 * mm),
        _bars("Checkouts and returns by day", [str(date.fromisoformat(d).day) for d in days],
              by_day, width, 58 * mm),
        _bars("Checkouts and returns by hour of day", [f"{h}" for h in range(24)], by_hour, width,
              52 * mm),
    ]
    doc.build(story)
    return out.getvalue()


def build_csv(stats: Stats, month: Month) -> str:
    first, last = month.bounds()
    return stats.csv(first, last)


async def send(profile: Profile, stats: Stats, month: Month, notifier: Notifier,
               recipients: list[str]) -> None:
    """E-mail the month's PDF and CSV; raises OSError when the mail server cannot be reached."""
    pdf = await asyncio.to_thread(build_pdf, profile, stats, month)
    table = await asyncio.to_thread(build_csv, stats, month)
    message = EmailMessage()
    message["From"], message["To"] = notifier.settings.sender, ", ".join(recipients)
    message["Subject"] = _title(profile, month, Formats(profile.station.locale))
    message.set_content("The monthly self-service report is attached, as a page (PDF) and as "
                        "figures for a spreadsheet (CSV). Counts only: no patron is named.\n")
    message.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename=f"bronco-report-{month.key}.pdf")
    message.add_attachment(table.encode(), maintype="text", subtype="csv",
                           filename=f"bronco-report-{month.key}.csv")
    await asyncio.to_thread(notifier._deliver, message)


def due(profile: Profile, now: datetime, last_sent: str | None) -> Month | None:
    """The month whose report should go out now, if any (once, on or after its day and hour)."""
    settings = profile.statistics
    if not settings.monthly_recipients:
        return None
    local = now.astimezone()
    if (local.day, local.hour) < (settings.monthly_day, settings.monthly_hour):
        return None
    month = Month.before(local.date())
    return None if last_sent == month.key else month
