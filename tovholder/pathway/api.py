from ninja import Router
from ninja.security import django_auth

router = Router(tags=["pathway"], auth=django_auth)
