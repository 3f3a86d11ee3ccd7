from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("reportes/cero/", views.zero_reports, name="zero"),
]
