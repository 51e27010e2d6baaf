from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from tovholder import access
from tovholder.inbox.services.handling import REFERRING_KINDS

# (url name, label, which role opens it). A section whose URL does not exist yet is skipped.
SECTIONS = [
    ("pathway:digest", _("Mine frister"), "staff"),
    ("inbox:inbox", _("Indgang"), "inbox"),
    ("consent:waiting", _("Afventer samtykke"), "inbox"),
    ("committee:agenda", _("Koordinationsudvalget"), "committee"),
    ("pathway:overview", _("Overblik"), "leader"),
    ("consultation:home", _("Sparring"), "staff"),
    ("insight:home", _("Indsigt"), "insight"),
    ("inbox:referral", _("Henvis et barn"), "staff"),
    ("inbox:my_referrals", _("Mine henvisninger"), "referrer"),
    ("inbox:directory", _("Hvor sender jeg hen?"), "staff"),
    ("web:configuration", _("Konfiguration"), "admin"),
]


def navigation(request):
    """The menu: the sections the signed-in staff member's roles open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = {"staff"}
    if access.inbox_municipalities(user):
        roles.add("inbox")
    if access.committee_municipalities(user):
        roles |= {"committee", "insight"}
    if access.is_administrator(user):
        roles |= {"admin", "insight"}
    held = set(user.memberships.active().values_list("role", "unit__kind"))
    if any(role in ("leader", "committee_chair") for role, _kind in held):
        roles |= {"leader", "insight"}
    # Those who refer (a GP, a school, a ward) find what they sent and the replies; a GP has
    # no case team role, so without this their home page would be empty and lead nowhere.
    if any(kind in REFERRING_KINDS for _role, kind in held):
        roles.add("referrer")
    items = []
    current = request.path
    for name, label, role in SECTIONS:
        if role not in roles:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"url": url, "label": label, "current": False})
    # The section whose address is the longest prefix of this page is the current one
    # (/indgang/oversigt/ is the directory, not the inbox).
    matches = [i for i in items if current.startswith(i["url"]) and i["url"] != "/"]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["current"] = True
    return {"nav_items": items}
