from django.urls import path

from . import views

app_name = "lookup"
urlpatterns = [
    path("consulta/", views.consulta, name="consulta"),
    path("busqueda/", views.people_search, name="search"),
]
