from ninja import Router
from ninja.security import django_auth

router = Router(tags=["consent"], auth=django_auth)
