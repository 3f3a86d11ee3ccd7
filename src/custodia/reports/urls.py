from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("reportes/", views.monthly_page, name="monthly"),
    path("reportes/descargar/", views.monthly_download, name="download"),
    path("reportes/cero/", views.zero_reports, name="zero"),
    path("reportes/calidad/", views.quality_page, name="quality"),
    path("reportes/calidad/folios/", views.quality_folios, name="quality_folios"),
]
