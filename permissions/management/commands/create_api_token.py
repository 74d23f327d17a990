from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from permissions.services import api_token_create
from portal.errors import validation_messages


class Command(BaseCommand):
    help = "Create an API token for a user and print its secret (shown once, never stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'SIEM forwarder'.")
        parser.add_argument("--days", type=int, default=90, help="Days until the token expires (default 90).")

    def handle(self, *args, username, name, days, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            token, secret = api_token_create(user=user, name=name, expires_at=timezone.now() + timedelta(days=days))
        except ValidationError as error:
            raise CommandError(" ".join(validation_messages(error))) from error
        self.stderr.write(f"Token {token.name!r} for {username}, expires {token.expires_at:%Y-%m-%d %H:%M} UTC.")
        self.stderr.write("Copy the secret now: it is not stored and cannot be shown again.")
        self.stdout.write(secret)
