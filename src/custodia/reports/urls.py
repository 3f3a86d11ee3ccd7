from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("reportes/", views.monthly_page, name="monthly"),
    path("reportes/descargar/", views.monthly_download, name="download"),
    path("reportes/cero/", views.zero_reports, name="zero"),
]
