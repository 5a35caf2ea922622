from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import include, path
from django.utils.translation import gettext as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .accounts import EmailAuthenticationForm, PasswordResetView
from .health import healthz
from .problems import PROBLEM_CONTENT_TYPE, problem

urlpatterns = [
    path("", include("events.urls")),
    path("", include("notifications.urls")),
    path("", include("awards.urls")),
    path("organise/", include("awards.console.urls")),
    path("organise/", include("events.console.urls")),
    path("api/v1/", include("events.api.urls")),
    path("api/v1/", include("awards.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs page loads its start-up script from ?script, not inline (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="api_docs.html"
        ),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
    # Password reset mails through the outbox, rate-limited (config.accounts).
    path(
        "accounts/password_reset/",
        PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
]


def _api_problem(
    request: HttpRequest, status: int, code: str, title: str
) -> JsonResponse:
    return JsonResponse(
        problem(status_code=status, code=code, title=title, detail=title),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def handler404(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _api_problem(request, 404, "not_found", _("Not found."))
    return render(request, "404.html", status=404)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _api_problem(request, 500, "server_error", _("Server error."))
    return render(request, "500.html", status=500)


def handler400(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        # Django calls a body over DATA_UPLOAD_MAX_MEMORY_SIZE a bad request; HTTP
        # has a status of its own for it.
        title = _("The request body is too large.")
        if request.path.startswith("/api/"):
            return _api_problem(request, 413, "too_large", title)
        return HttpResponse(title, status=413, content_type="text/plain")
    if request.path.startswith("/api/"):
        return _api_problem(request, 400, "invalid", _("Bad request."))
    return HttpResponse(_("Bad request."), status=400, content_type="text/plain")
