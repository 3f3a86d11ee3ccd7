from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("detenciones/", views.detention_list, name="list"),
    path("detenciones/nueva/", views.capture, name="capture"),
    path("detenciones/<str:folio>/", views.detention_detail, name="detail"),
    path("detenciones/<str:folio>/movimientos/", views.record_event, name="record_event"),
    path("bandeja/", views.inbox, name="inbox"),
    path("bandeja/recibir/", views.intake, name="intake"),
    path("alertas/", views.alerts_page, name="alerts"),
    path("reglas/", views.rules_page, name="rules"),
]
