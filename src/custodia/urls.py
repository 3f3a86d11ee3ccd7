from django.contrib import admin
from django.urls import include, path

from custodia.api import api

admin.site.site_header = "Custodia · Administración"
admin.site.site_title = "Custodia"
admin.site.index_title = "Catálogos, instituciones y usuarios"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("custodia.core.urls")),
    path("", include("custodia.registry.urls")),
    path("", include("custodia.notify.urls")),
    path("", include("custodia.ledger.urls")),
    path("", include("custodia.lookup.urls")),
    path("", include("custodia.reports.urls")),
    path("", include("custodia.conference.urls")),
]
