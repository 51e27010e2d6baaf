from django.db import models
from django.utils import timezone


class LoginFailure(models.Model):
    """Failed logins, kept in the database so throttling holds across app servers."""

    username_key = models.CharField(max_length=64, db_index=True)
    address = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.address}"
