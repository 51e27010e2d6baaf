"""What the insight page shows: each figure's chart next to its table."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from tovholder.insight import charts
from tovholder.insight.metrics import CLOCK_SHORT, CLOCKS, STATUSES, Insight
from tovholder.insight.tables import Suppressed, Table, cell_text, suppress


@dataclass
class Figure:
    table: Table
    chart: SafeString | None = None
    charts: list[tuple[str, SafeString]] | None = None  # small multiples: (caption, chart)

    @property
    def key(self) -> str:
        return self.table.key


def _num(value) -> float:
    return 0 if value is None or isinstance(value, Suppressed) else float(value)


def _text(value, kind: str = "count") -> str:
    return cell_text(value, kind)


def visible(insight: Insight) -> Insight:
    """The insight with small counts hidden when the viewer does not see exact figures."""
    if insight.area.exact:
        return insight
    return Insight(area=insight.area, period=insight.period, key=suppress(insight.key),
                   tables={k: suppress(t) for k, t in insight.tables.items()},
                   waits=[suppress(t) for t in insight.waits])


def figures(insight: Insight) -> list[Figure]:
    t = insight.tables
    out: list[Figure] = [Figure(insight.key)]

    steps = t["tragt"]
    out.append(Figure(steps, charts.bar_chart(
        chart_id="chart-tragt", title=str(steps.title), desc=str(steps.description),
        labels=[r[0] for r in steps.rows], values=[_num(r[1]) for r in steps.rows],
        value_labels=[f"{_text(r[1])} ({_text(r[2], 'percent')})" for r in steps.rows],
        axis_label=_("Antal henvendelser"))))
    out.append(Figure(t["frafald"]))

    channels = t["henvendelser"]
    rows = channels.rows[:-1]
    out.append(Figure(channels, charts.bar_chart(
        chart_id="chart-henvendelser", title=str(channels.title), desc=str(channels.description),
        labels=[r[0] for r in rows], values=[_num(r[1]) for r in rows],
        value_labels=[_text(r[1]) for r in rows], axis_label=_("Antal henvendelser"))))

    compliance = t["rettidighed"]
    status_keys = [s for s, _l in STATUSES]
    bars = []
    shorts = [str(CLOCK_SHORT[clock]) for clock, _label in CLOCKS] + [_("Næste opfølgning")]
    for short, row in zip(shorts, compliance.rows, strict=True):
        bars.append((short, [int(_num(row[2 + i])) for i in range(len(status_keys))]))
    out.append(Figure(compliance, charts.stacked_percent_chart(
        chart_id="chart-rettidighed", title=str(compliance.title), desc=str(compliance.description),
        rows=bars, series=[str(label) for _s, label in STATUSES],
        colours=["#1e6b34", "#b35c00", "#a0161b", "#b8bfc7", "#6a3d9a", "#4a5563", "#00838f"],
        suffix=[f"n={_text(row[1])}" for row in compliance.rows])))

    over_time = t["rettidighed_over_tid"]
    months = sorted({r[0] for r in over_time.rows})
    small = []
    for clock, label in CLOCKS:
        rows = {r[0]: r for r in over_time.rows if r[1] == str(CLOCK_SHORT[clock])}
        series = [rows.get(m) for m in months]
        small.append((str(label), charts.column_chart(
            chart_id=f"chart-tid-{clock}", title=f"{_('Rettidighed over tid')}: {label}",
            desc=_("Andel overholdt af de frister, der faldt i hver måned. Tallet over søjlen er overholdt/frister."),
            labels=months, values=[_num(r[4]) if r else 0 for r in series],
            value_labels=[f"{_text(r[2])}/{_text(r[3])}" if r else "" for r in series],
            x_label=_("Måned, hvor fristen faldt"), y_label=_("% overholdt"), max_value=100, height=220)))
    out.append(Figure(over_time, charts=small))

    for wait in insight.waits:
        unit = wait.columns[0].label
        out.append(Figure(wait, charts.column_chart(
            chart_id=f"chart-{wait.key}", title=str(wait.title), desc=f"{wait.description} {wait.note}",
            labels=[r[0] for r in wait.rows], values=[_num(r[1]) for r in wait.rows],
            value_labels=[_text(r[1]) for r in wait.rows], x_label=str(unit), y_label=_("Antal forløb"))))

    ages = t["alder"]
    out.append(Figure(ages, charts.column_chart(
        chart_id="chart-alder", title=str(ages.title), desc=str(ages.description),
        labels=[r[0].split(" ")[0] for r in ages.rows], values=[_num(r[1]) for r in ages.rows],
        value_labels=[_text(r[1]) for r in ages.rows], x_label=_("Alder (år)"), y_label=_("Antal børn"))))

    for key in ("skoleindsatser", "indsatsansvarlig", "foraeldre", "psykiatri", "indgang", "kommuner"):
        if key in t:
            out.append(Figure(t[key]))
    return out


def all_tables(insight: Insight) -> list[Table]:
    return insight.all_tables()
