from ninja import Router
from ninja.security import django_auth

router = Router(tags=["letters"], auth=django_auth)
