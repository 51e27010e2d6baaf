from django import template

from tovholder.insight.tables import cell_text

register = template.Library()


@register.filter
def with_columns(row, table):
    """Pair each cell with its column: [{key, text, numeric}]."""
    return [{"key": c.key, "text": cell_text(v, c.kind), "numeric": c.kind in ("count", "percent", "number")}
            for c, v in zip(table.columns, row, strict=False)]
