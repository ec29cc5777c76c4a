"""The configuration studio, under /studio/. Names live in the ``admin_ui`` namespace.

Each editor's module lists its own routes (``urlpatterns``); this file only puts them together.
"""

from django.urls import path

from . import bundles, flows, form_designer, home, rule_publish, type_designer, views

app_name = "admin_ui"

urlpatterns = [
    path("", home.studio_home, name="home"),
    path("rules/", views.rule_editor, name="rule-editor"),
    path("rules/vocabulary/", views.rule_vocabulary, name="rule-vocabulary"),
    path("rules/projects/", views.rule_projects, name="rule-projects"),
    path("rules/check/", views.rule_check, name="rule-check"),
    path("rules/try/", views.rule_try, name="rule-try"),
    path("rules/impact/", views.rule_impact, name="rule-impact"),
    path("flows/<str:type_code>/", flows.flow_designer, name="flow-designer"),
    path("flows/<str:type_code>/preview/", flows.flow_preview, name="flow-preview"),
    path("flows/<str:type_code>/save/", flows.flow_save, name="flow-save"),
    path("flows/<str:type_code>/publish/", flows.flow_publish, name="flow-publish"),
    path("flows/<str:type_code>/publish-preview/", flows.flow_publish_preview, name="flow-publish-preview"),
    *type_designer.urlpatterns,
    *form_designer.urlpatterns,
    *bundles.urlpatterns,
    *rule_publish.urlpatterns,
]
