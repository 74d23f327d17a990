from django.urls import path

from home import views

app_name = "home"
urlpatterns = [
    path("", views.home, name="home"),
    path("home/cards/<slug:key>/", views.home_card, name="card"),
]
