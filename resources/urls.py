from django.urls import path

from resources import views

app_name = "resources"

urlpatterns = [
    path("", views.resource_list, name="list"),
    path("add/", views.resource_add, name="add"),
    path("<int:pk>/edit/", views.resource_edit, name="edit"),
    path("<int:pk>/move/", views.resource_move, name="move"),
    path("<int:pk>/visibility/", views.resource_visibility, name="visibility"),
    path("<int:pk>/delete/", views.resource_delete, name="delete"),
]
