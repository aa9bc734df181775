from django.contrib.auth import views as auth_views
from django.urls import include, path

from app.accounts import views as account_views
from app.core.admin_site import admin_urlpatterns

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", account_views.LogoutWithConfirmation.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    *admin_urlpatterns(),  # off unless JIUM_ADMIN_ENABLED, and then behind two-step login
    path("api/v1/", include("app.api.urls")),
    path("", include("app.tracking.urls")),
    path("", include("app.web.urls")),
    path("", include("app.notices.urls")),
]
