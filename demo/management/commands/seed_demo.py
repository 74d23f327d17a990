from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.services import DEMO_ACCOUNTS, demo_estate_seed


class Command(BaseCommand):
    help = "Load the demo estate (device groups, devices, directory users, one account per built-in role)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DEBUG off. The demo accounts have published passwords: never on a real deployment.",
        )

    def handle(self, *args, allow_production, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "seed_demo creates accounts with published passwords and runs only with DEBUG on "
                "(or --allow-production for a throwaway environment)."
            )
        counts = demo_estate_seed()
        self.stdout.write(
            f"Demo estate ready: {counts['device_groups']} device groups, {counts['devices']} devices, "
            f"{counts['users']} directory users, {len(DEMO_ACCOUNTS)} demo accounts, "
            f"{counts['alerts']} new demo alerts."
        )
