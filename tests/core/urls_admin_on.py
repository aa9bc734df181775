"""The project's URLs with the admin switched on (JIUM_ADMIN_ENABLED is read when URLs load)."""

from app.core.admin_site import admin_urlpatterns
from app.urls import urlpatterns as project_urlpatterns

urlpatterns = [*admin_urlpatterns(), *project_urlpatterns]
