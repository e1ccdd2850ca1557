from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Akeneo Migration"
admin.site.site_title = "Akeneo Migration"
admin.site.index_title = "Administration"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
]

# Development only (static() is empty when DEBUG=0): in production the web server or object storage serves media.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
