"""One-click unsubscribe from reminders (RFC 8058), and its page."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .models import Unsubscription
from .services import email_from_unsubscribe_token, unsubscribe


# Mail programs send the one-click POST without cookies, so no CSRF token can come
# with it; the signed token in the URL is what authorises it.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    email = email_from_unsubscribe_token(token)
    if email is None:
        raise Http404
    if request.method == "POST":
        unsubscribe(email=email)
        done = True
    else:
        done = Unsubscription.objects.filter(email=email).exists()
    return render(
        request, "notifications/unsubscribe.html", {"email": email, "done": done}
    )
