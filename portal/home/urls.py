from django.urls import path

from portal.home import views

urlpatterns = [
    path("", views.home, name="home"),
    path("home/cards/<slug:key>/", views.home_card, name="home_card"),
]
