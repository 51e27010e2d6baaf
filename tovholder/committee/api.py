from ninja import Router
from ninja.security import django_auth

router = Router(tags=["committee"], auth=django_auth)
