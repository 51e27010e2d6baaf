from ninja import Router
from ninja.security import django_auth

router = Router(tags=["insight"], auth=django_auth)
