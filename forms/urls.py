from django.urls import path

from . import views

app_name = "forms"
urlpatterns = [
    path("", views.form_index, name="index"),
    path("<str:code>/fill/", views.form_fill, name="fill"),
    path("<str:code>/v<int:number>/live/", views.form_live, name="live"),
    path("submissions/<int:pk>/", views.submission_edit, name="submission"),
]
