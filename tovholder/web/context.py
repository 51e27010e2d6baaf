from tovholder import access


def navigation(request):
    """Which sections the signed-in staff member's roles open in the menu."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_inbox": bool(access.inbox_municipalities(user)),
        "nav_committee": bool(access.committee_municipalities(user)),
        "nav_admin": access.is_administrator(user),
    }
