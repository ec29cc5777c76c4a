"""Pages of the ledger import, mounted at /projects/import/."""

from django.urls import path

from . import views

app_name = "project_imports"
urlpatterns = [
    path("", views.import_index, name="index"),
    path("template/", views.import_template_download, name="template"),
    path("<int:pk>/", views.import_job_detail, name="job"),
    path("<int:pk>/status/", views.import_job_status, name="status"),
    path("<int:pk>/report/", views.import_job_report, name="report"),
    path("<int:pk>/confirm/", views.import_job_confirm, name="confirm"),
    path("<int:pk>/cancel/", views.import_job_cancel, name="cancel"),
]
