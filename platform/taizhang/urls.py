"""URL map: pages, the API under /api/v1/, its OpenAPI schema and docs, health, admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import api_urls, views

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/import/", include("projects.imports.urls")),
    path("projects/", include("projects.ledger.urls")),
    path("forms/", include("forms.urls")),
    path("projects/", include("projects.urls")),
    path("", include("rules.urls")),
    path("", include("workflow.urls")),
    path("studio/", include("admin_ui.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/", include(api_urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
]

handler404 = "taizhang.errors.not_found"
handler500 = "taizhang.errors.server_error"
handler403 = "taizhang.errors.forbidden"
handler400 = "taizhang.errors.bad_request"
