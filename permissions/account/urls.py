from django.contrib.auth import views as auth_views
from django.urls import path

from permissions.account import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("account/two-factor/", views.two_factor, name="two_factor"),
    path("account/two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
]
