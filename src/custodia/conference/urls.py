from django.urls import path

from . import views

app_name = "conference"

urlpatterns = [
    path("conferencia/", views.home, name="home"),
    path("conferencia/sesiones/<int:pk>/", views.session_detail, name="session"),
    path("conferencia/sesiones/<int:pk>/acta.pdf", views.acta, name="acta"),
    path("conferencia/acuerdos/<int:pk>/", views.agreement_detail, name="agreement"),
    path("conferencia/mesas/<int:pk>/", views.group_detail, name="group"),
    path("conferencia/comunicados/<int:pk>/", views.communique_detail, name="communique"),
    path("conferencia/evidencia/<int:pk>/", views.evidence_file, name="evidence"),
    path("conferencia/seguimiento.xlsx", views.follow_up_sheet, name="follow_up_sheet"),
    path("conferencia/publico/", views.public, name="public"),
    path(
        "conferencia/publico/comunicados/<int:pk>/",
        views.public_communique,
        name="public_communique",
    ),
]
