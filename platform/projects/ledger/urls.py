"""The ledger page's URL; included at `/projects/` by the project's URL map, named `project-ledger`."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.project_ledger, name="project-ledger"),
]
