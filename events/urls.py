from django.urls import path

from events import views

app_name = "events"

urlpatterns = [
    path("<int:connection_id>/", views.receive, name="receive"),
    # Akeneo may be given the URL without its trailing slash: a POST cannot be redirected, so answer it here.
    path("<int:connection_id>", views.receive, name="receive-no-slash"),
]
