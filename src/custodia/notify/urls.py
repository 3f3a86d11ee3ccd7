from django.urls import path

from . import views

app_name = "notify"
urlpatterns = [path("notificaciones/", views.subscriptions, name="subscriptions")]
