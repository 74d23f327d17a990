from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from portal.health import check_database, check_redis

__all__ = ("healthz",)


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
