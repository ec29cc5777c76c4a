from django.urls import path

from . import views

urlpatterns = [
    path("new/", views.project_new, name="project-new"),
    path("new/<str:code>/", views.project_new_fill, name="project-new-fill"),
    path("<int:pk>/", views.project_detail, name="project-show"),
    path("<int:pk>/expenditures/", views.project_expenditure_add, name="project-expenditure-add"),
    path("<int:pk>/budget-lines/", views.project_budget_line_add, name="project-budget-line-add"),
    path("<int:pk>/contracts/", views.project_contract_add, name="project-contract-add"),
    path("<int:pk>/milestones/", views.project_milestone_add, name="project-milestone-add"),
    path("<int:pk>/milestones/<int:mid>/done/", views.project_milestone_done, name="project-milestone-done"),
    path("<int:pk>/milestones/<int:mid>/checkin/", views.project_checkin, name="project-checkin"),
    path("<int:pk>/tasks/", views.project_task_save, name="project-task-save"),
    path("<int:pk>/stage/", views.project_stage, name="project-stage"),
    path("<int:pk>/forms/<str:role>/", views.project_form_fill, name="project-form-fill"),
]
