from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Akeneo Migration"
admin.site.site_title = "Akeneo Migration"
admin.site.index_title = "Administration"

# No public route to MEDIA_ROOT, not even in development: the files come from Akeneo (HTML and SVG among them)
# and are served only by the catalog admin's download view, to staff allowed to see them (catalog.views).
urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("akeneo/events/", include("events.urls")),
]
