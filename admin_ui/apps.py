from django.apps import AppConfig


class AdminUiConfig(AppConfig):
    name = "admin_ui"
    label = "admin_ui"
    verbose_name = "配置工作台"
