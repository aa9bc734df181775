from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from app.accounts import views as account_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", account_views.LogoutWithConfirmation.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("app.api.urls")),
    path("", include("app.tracking.urls")),
    path("", include("app.web.urls")),
    path("", include("app.notices.urls")),
]
