from ninja import Router
from ninja.security import django_auth

router = Router(tags=["inbox"], auth=django_auth)
