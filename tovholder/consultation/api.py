from ninja import Router
from ninja.security import django_auth

router = Router(tags=["consultation"], auth=django_auth)
