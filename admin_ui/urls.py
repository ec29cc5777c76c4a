"""The configuration studio, under /studio/. Names live in the ``admin_ui`` namespace."""

from django.urls import path

from . import views

app_name = "admin_ui"

urlpatterns = [
    path("rules/", views.rule_editor, name="rule-editor"),
    path("rules/vocabulary/", views.rule_vocabulary, name="rule-vocabulary"),
    path("rules/projects/", views.rule_projects, name="rule-projects"),
    path("rules/check/", views.rule_check, name="rule-check"),
    path("rules/try/", views.rule_try, name="rule-try"),
    path("rules/impact/", views.rule_impact, name="rule-impact"),
]
