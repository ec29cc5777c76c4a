"""Pages of the rules app, included at the site root: /alerts/… (inbox, alert, notifications) and /rules/… (rule
packs and the policy library). Names live in the ``rules`` namespace."""

from django.urls import path

from . import views

app_name = "rules"

urlpatterns = [
    path("alerts/", views.alert_inbox, name="alert-inbox"),
    path("alerts/notifications/", views.notification_list, name="notification-list"),
    path("alerts/notifications/read/", views.notifications_read, name="notifications-read"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert-show"),
    path("alerts/<int:pk>/evidence/", views.alert_evidence, name="alert-evidence"),
    path("alerts/<int:pk>/<str:step>/", views.alert_step, name="alert-step"),
    path("rules/packs/", views.pack_list, name="pack-list"),
    path("rules/packs/upload/", views.pack_upload, name="pack-upload"),
    path("rules/packs/<int:pk>/", views.pack_detail, name="pack-show"),
    path("rules/regulations/", views.regulation_list, name="regulation-list"),
    path("rules/regulations/<int:pk>/", views.regulation_detail, name="regulation-show"),
]
