"""Root URLconf: each app's URLs, allauth's and the admin. Paths carry only opaque numeric ids."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

# The admin signs in through allauth like everyone else: the same rate limits and second factor.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", include("intimacy.urls")),
    # accounts/ before allauth's URLs: it replaces allauth's email page (see accounts/urls.py).
    path("", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

# A database out of reach answers 503 with the person's own words to copy (accounts/errors.py).
handler500 = "accounts.errors.server_error"
