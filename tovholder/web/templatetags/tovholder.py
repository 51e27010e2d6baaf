from django import template

from tovholder.access import basis_label as _basis_label

register = template.Library()


@register.filter
def basis_label(basis: str) -> str:
    """The access basis of an audit row, in words ("lead" → "indsatsansvarlig")."""
    return _basis_label(basis)
