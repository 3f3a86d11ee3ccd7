from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("detenciones/", views.detention_list, name="list"),
    path("detenciones/nueva/", views.capture, name="capture"),
    path("detenciones/<str:folio>/", views.detention_detail, name="detail"),
    path("reglas/", views.rules_page, name="rules"),
]
