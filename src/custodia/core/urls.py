from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("entrar/", views.CustodiaLoginView.as_view(), name="login"),
    path("salir/", views.CustodiaLogoutView.as_view(), name="logout"),
    path("cuenta/tokens/", views.tokens, name="tokens"),
]
