from django.urls import path

from . import views

app_name = "ledger"
urlpatterns = [
    path("auditoria/libro/", views.ledger_page, name="ledger"),
    path("auditoria/accesos/", views.access_log_page, name="access_log"),
]
