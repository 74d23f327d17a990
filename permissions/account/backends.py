from axes.backends import AxesStandaloneBackend

__all__ = ("LockoutBackend",)


class LockoutBackend(AxesStandaloneBackend):
    """
    django-axes' lockout check, for sign-ins that come with a request.

    Every sign-in form passes its request (the portal's, the Django admin's); a call without one comes from code,
    such as the test client's `login()` or a shell, which has no client address to count failures against. axes
    itself raises an error there; this backend leaves such calls to the backends after it.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
