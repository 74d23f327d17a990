from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from portal.health import check_database, check_redis
from portal.navigation import sections_for

__all__ = ("healthz", "home")


def home(request):
    """Until the Home section has its cards, `/` opens the first section the user may see."""
    sections = sections_for(request.user)
    if not sections:
        raise PermissionDenied("Your account has no access to any section of Vigil.")
    return redirect(sections[0].url_name)


# Monitors probe without a session or a CSRF token; the view only reads and answers GET alone.
@csrf_exempt
@login_not_required
@never_cache
@require_GET
def healthz(request):
    checks = {"database": check_database(), "redis": check_redis()}
    healthy = all(problem is None for problem in checks.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "checks": {name: "ok" if problem is None else f"down: {problem}" for name, problem in checks.items()},
        },
        status=200 if healthy else 503,
    )
