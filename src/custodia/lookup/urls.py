from django.urls import path

from . import views

app_name = "lookup"
urlpatterns = [
    path("consulta/", views.consulta, name="consulta"),
    path("busqueda/", views.people_search, name="search"),
    path("consulta/avisos/", views.alert_subscribe, name="alert_subscribe"),
    path("consulta/avisos/confirmar/<str:token>/", views.alert_confirm, name="alert_confirm"),
    path("consulta/avisos/baja/<str:token>/", views.alert_unsubscribe, name="alert_unsubscribe"),
]
